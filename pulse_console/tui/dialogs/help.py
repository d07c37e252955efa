"""`?`: the keys of the current screen and the global ones, from the command table."""

from __future__ import annotations

from pathlib import Path

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from pulse_console.tui.keymap import (
    APP,
    SCREENS,
    commands_for,
    effective_key,
    key_label,
    scope_title,
)


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
        for scope in dict.fromkeys((self._scope, APP)):
            commands = commands_for(scope)
            if not commands:
                continue
            table.add_row(scope_title(scope), "", style="underline")
            for command in commands:
                table.add_row(key_label(effective_key(command, self._keymap)), command.help)
        # One scroll for all of it: on a short terminal the whole help scrolls (↑↓, PgUp/PgDn).
        with VerticalScroll(classes="dialog", id="help"):
            yield Label(f"Keys — {scope_title(self._scope)}", classes="title")
            yield Static(table)
            yield Static("Screens: " + ", ".join(SCREENS) + " (: to jump)", classes="hint")

    def on_mount(self) -> None:
        self.query_one("#help", VerticalScroll).focus()
