"""Ask for one value, validated; returns the text or None (escape)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

Check = Callable[[str], str | None]  # returns an error message, or None when valid


class PromptDialog(ModalScreen[str | None]):
    CSS_PATH = Path(__file__).with_name("dialogs.tcss")
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, title: str, hint: str, value: str = "", check: Check | None = None) -> None:
        super().__init__()
        self._title, self._hint, self._value, self._check = title, hint, value, check

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self._title, classes="title")
            yield Input(self._value, id="value")
            yield Static(self._hint, classes="hint")
            yield Static("", id="error", classes="error")

    @on(Input.Submitted)
    def _submit(self, event: Input.Submitted) -> None:
        value = event.value.strip()
        problem = self._check(value) if self._check else None
        if problem:
            self.query_one("#error", Static).update(problem)
            return
        self.dismiss(value)
