"""The one error dialog: what happened, what it affects, what to do (title + message)."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, Static


class ErrorDialog(ModalScreen[None]):
    CSS_PATH = Path(__file__).with_name("dialogs.tcss")
    BINDINGS = [
        Binding("escape", "dismiss(None)", "Close"),
        Binding("enter", "dismiss(None)", "Close", show=False),
    ]

    def __init__(self, title: str, message: str) -> None:
        super().__init__()
        self._title, self._message = title, message

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(f"✖ {self._title}", classes="title error")
            yield Static(self._message)
            yield Static("Esc or Enter closes this message.", classes="hint")
