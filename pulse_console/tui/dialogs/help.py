"""`?`: the keys of the current screen and the global ones, from the command table."""

from __future__ import annotations

from pathlib import Path

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from pulse_console.tui.keymap import APP, SCREENS, commands_for, effective_key, key_label


class HelpDialog(ModalScreen[None]):
    CSS_PATH = Path(__file__).with_name("dialogs.tcss")
    BINDINGS = [
        Binding("escape", "dismiss(None)", "Close"),
        Binding("question_mark", "dismiss(None)", "Close", show=False),
    ]

    def __init__(self, scope: str, keymap: dict[str, str]) -> None:
        super().__init__()
        self._scope, self._keymap = scope, keymap

    def compose(self) -> ComposeResult:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold", no_wrap=True)
        table.add_column()
        for scope in (self._scope, APP):
            commands = commands_for(scope)
            if not commands:
                continue
            table.add_row(SCREENS.get(scope, "Everywhere"), "", style="underline")
            for command in commands:
                table.add_row(key_label(effective_key(command, self._keymap)), command.help)
        with Vertical(classes="dialog"):
            yield Label(f"Keys — {SCREENS.get(self._scope, self._scope)}", classes="title")
            with VerticalScroll():
                yield Static(table)
            yield Static("Screens: " + ", ".join(SCREENS) + " (: to jump)", classes="hint")
