"""The always-visible header: screen, client, who, database and worker (k9s-style)."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static


class ContextHeader(Static):
    """One line: `Pulse Console │ Logs │ client acme │ db … │ worker embedded`."""

    screen_title: reactive[str] = reactive("")
    worker: reactive[str] = reactive("embedded")
    banner: reactive[str] = reactive("")
    busy: reactive[str] = reactive("")  # a spinner while the console waits (busy_watch.py)

    def __init__(
        self, client: str, database: str, *, operator: str | None = None, **kwargs: object
    ) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.client = client
        self.database = database
        self.operator = operator  # `login · role`, shown when not the database's owner

    def render(self) -> Text:
        text = Text.assemble(
            ("Pulse Console", "bold"),
            " │ ",
            (self.screen_title, "bold reverse"),
            " │ client ",
            (self.client, "bold"),
            *((" │ ", (self.operator, "bold")) if self.operator else ()),
            " │ db ",
            (self.database, "bold"),
            " │ worker ",
            (self.worker, "bold"),
        )
        if self.busy:
            text.append(f" │ {self.busy}", style="bold")
        if self.banner:
            text.append(f"  {self.banner}", style="bold red")
        text.truncate(max(self.size.width, 1), overflow="ellipsis")
        return text
