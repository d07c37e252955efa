"""A read-only, scrollable text dialog (log record detail, run checkpoints)."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static


class TextViewDialog(ModalScreen[str | None]):
    """Shows `body`; `c` returns "copy" so the caller copies it, escape closes."""

    CSS_PATH = Path(__file__).with_name("dialogs.tcss")
    BINDINGS = [
        Binding("escape", "dismiss(None)", "Close"),
        Binding("c", "dismiss('copy')", "Copy"),
        Binding("l", "dismiss('logs')", "Logs", show=False),
    ]

    def __init__(self, title: str, body: str | Text) -> None:
        super().__init__()
        self._title, self._body = title, body

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Label(self._title, classes="title")
            with VerticalScroll():
                yield Static(self._body, markup=False)
            yield Static("c copy · Esc close", classes="hint")
