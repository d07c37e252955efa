"""Yes/no confirmation that returns a bool (escape = no)."""

from __future__ import annotations

from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static


class ConfirmDialog(ModalScreen[bool]):
    CSS_PATH = Path(__file__).with_name("dialogs.tcss")
    BINDINGS = [
        Binding("escape", "dismiss(False)", "Cancel"),
        Binding("y", "dismiss(True)", "Yes", show=False),
        Binding("n", "dismiss(False)", "No", show=False),
    ]

    def __init__(self, title: str, body: str, confirm: str = "Yes", danger: bool = False) -> None:
        super().__init__()
        self._title, self._body, self._confirm, self._danger = title, body, confirm, danger

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self._title, classes="title")
            yield Static(self._body)
            with Horizontal(classes="buttons"):
                yield Button("Cancel (n)", id="no")
                yield Button(
                    f"{self._confirm} (y)", id="yes", variant="error" if self._danger else "primary"
                )

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")
