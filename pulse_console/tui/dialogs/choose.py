"""Pick one of a list of options; returns its key or None (escape)."""

from __future__ import annotations

from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option


class ChooseDialog(ModalScreen[str | None]):
    """A filterable list: type to narrow, Enter to choose."""

    CSS_PATH = Path(__file__).with_name("dialogs.tcss")
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(
        self, title: str, options: list[tuple[str, str]], hint: str = "", filterable: bool = True
    ) -> None:
        super().__init__()
        self._title, self._options, self._hint, self._filterable = title, options, hint, filterable

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self._title, classes="title")
            if self._filterable:
                yield Input(placeholder="type to filter", id="filter")
            yield OptionList(*[Option(label, id=key) for key, label in self._options])
            if self._hint:
                yield Static(self._hint, classes="hint")

    def on_mount(self) -> None:
        if not self._filterable:
            self.query_one(OptionList).focus()

    @on(Input.Changed, "#filter")
    def _filter(self, event: Input.Changed) -> None:
        needle = event.value.lower()
        options = self.query_one(OptionList)
        options.clear_options()
        options.add_options(
            [Option(label, id=key) for key, label in self._options if needle in label.lower()]
        )
        if options.option_count:
            options.highlighted = 0

    @on(Input.Submitted, "#filter")
    def _take_first(self) -> None:
        options = self.query_one(OptionList)
        if options.option_count:
            self.dismiss(options.get_option_at_index(options.highlighted or 0).id)

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)
