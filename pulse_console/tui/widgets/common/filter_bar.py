"""The `/` filter line: hidden until asked for; Enter applies, Esc clears and hides."""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Input


class FilterBar(Input):
    """An input that posts `FilterBar.Changed` with the filter text."""

    BINDINGS = [Binding("escape", "cancel", "Clear filter", show=False)]

    @dataclass
    class Applied(Message):
        """The operator applied a filter ('' = none)."""

        text: str

    def __init__(self, placeholder: str = "filter…", **kwargs: object) -> None:
        super().__init__(placeholder=placeholder, **kwargs)  # type: ignore[arg-type]
        self.display = False

    def open(self) -> None:
        self.display = True
        self.focus()

    def action_cancel(self) -> None:
        self.value = ""
        self.display = False
        self.post_message(self.Applied(""))

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.post_message(self.Applied(self.value.strip()))
        if not self.value.strip():
            self.display = False
