"""Clients: the clients this login may see, and switching the console to another one.

Enter on a row asks the app to switch (`switch_client`): the console then works on that
client — its jobs, logs, mappings and audit trail — exactly as if it had been started with
`--client NAME`. Adding, renaming and removing clients are admin commands
(`pulse-console client …`), recorded in the audit trail.
"""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.widgets import DataTable

from pulse_console.services.clients import ClientInfo
from pulse_console.tui.format import when
from pulse_console.tui.screens.list_screen import ListScreen
from pulse_console.tui.widgets.common.columns import Column, ColumnSets

_CLIENTS = (Column("current", " ", 1), Column("name", "Client", 20))
CLIENT_COLUMNS = ColumnSets(
    wide=(
        *_CLIENTS,
        Column("integrations", "Integrations", 12),
        Column("jobs", "Jobs", 5),
        Column("created", "Created", 16),
        Column("display", "Name", None),
    ),
    narrow=(
        *_CLIENTS,
        Column("integrations", "Integr.", 7),
        Column("jobs", "Jobs", 5),
        Column("display", "Name", None),
    ),
)


class ClientsScreen(ListScreen[list[ClientInfo]]):
    SCOPE: ClassVar[str] = "clients"
    BUSY: ClassVar[bool] = True
    COLUMNS = ("#clients", CLIENT_COLUMNS)

    def __init__(self) -> None:
        super().__init__([])

    def compose_body(self) -> ComposeResult:
        yield DataTable(id="clients", cursor_type="row")

    def fetch(self) -> list[ClientInfo]:
        return self.ctx.services.clients.list_clients()

    def redraw(self) -> None:
        table = self.query_one(DataTable)
        table.clear()
        for info in self.data:
            cells = {
                "current": "●" if info.name == self.ctx.client else "",
                "name": info.name,
                "integrations": str(info.integrations),
                "jobs": str(info.jobs),
                "created": when(info.created_at),
                "display": info.display_name,
            }
            if self.matches(info.name, info.display_name):
                CLIENT_COLUMNS.row(table, cells, key=info.name)
        if not self.data:
            self.status("No clients: an admin adds one with `pulse-console client add NAME`")
        else:
            self.status(
                f"{len(self.data)} client(s) · ● is this console's · Enter switches to the "
                "selected one"
            )

    @on(DataTable.RowSelected)
    def _row(self) -> None:
        self.action_switch()

    def action_switch(self) -> None:
        name = self.cursor_key(self.query_one(DataTable))
        if name is None:
            return
        if name == self.ctx.client:
            self.notify(f"This console already works on {name}.")
            return
        self.pulse.switch_client(name)

    def disabled_reason(self, action: str) -> str | None:
        if action == "switch" and self.ctx.open_client is None:
            return "this console cannot switch clients"
        return None
