"""Audit: who (the PostgreSQL login) changed what in this client, newest first.

The rows are the database's audit trail (`services.audit`): the triggers' row changes with
their before/after, and the services' recorded intents (controls, log-file actions). `/`
narrows the loaded rows by any cell (`jira`, `settings`, a login); Enter shows one row in
full, before and after as JSON.
"""

from __future__ import annotations

import json
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.widgets import DataTable

from pulse_console.services.audit import AuditEntry, AuditQuery
from pulse_console.tui.dialogs.text_view import TextViewDialog
from pulse_console.tui.format import short_when
from pulse_console.tui.screens.list_screen import ListScreen
from pulse_console.tui.widgets.common.columns import Column, ColumnSets

AUDIT_COLUMNS = ColumnSets(
    wide=(
        Column("ts", "Time", 11),
        Column("login", "Login", 14),
        Column("action", "Action", 26),
        Column("target", "Target", 20),
        Column("change", "Change", None),
    ),
    narrow=(
        Column("ts", "Time", 11),
        Column("login", "Login", 10),
        Column("what", "What", 30),
        Column("change", "Change", None),
    ),
)


LIMIT = 500


def detail(entry: AuditEntry) -> str:
    lines = [
        f"time     {entry.ts:%Y-%m-%d %H:%M:%S} UTC",
        f"login    {entry.login or '?'}",
        f"operator {entry.actor}",
        f"client   {entry.client or '-'}",
        f"action   {entry.action}",
        f"target   {entry.target or '-'}",
    ]
    for title, value in (("before", entry.before), ("after", entry.after)):
        if value is not None:
            lines += ["", title, json.dumps(value, indent=2, sort_keys=True, default=str)]
    if entry.details:
        lines += ["", "details", json.dumps(entry.details, indent=2, sort_keys=True, default=str)]
    return "\n".join(lines)


class AuditScreen(ListScreen[list[AuditEntry]]):
    SCOPE: ClassVar[str] = "audit"
    BUSY: ClassVar[bool] = True
    COLUMNS = ("#audit", AUDIT_COLUMNS)
    POLL_SECONDS: ClassVar[float | None] = 10.0
    FILTER_HINT: ClassVar[str] = "filter by login, action, target or change (Esc clears)"

    def __init__(self) -> None:
        super().__init__([])

    def compose_body(self) -> ComposeResult:
        yield DataTable(id="audit", cursor_type="row")

    def fetch(self) -> list[AuditEntry]:
        return self.ctx.services.audit.search(AuditQuery(limit=LIMIT))

    def redraw(self) -> None:
        table = self.query_one(DataTable)
        table.clear()
        shown = 0
        for entry in self.data:
            change = entry.summary()
            target = entry.target or ""
            cells = {
                "ts": short_when(entry.ts),
                "login": entry.login or "?",
                "action": entry.action,
                "target": target,
                "what": f"{entry.action} {target}".strip(),
                "change": Text(change),
            }
            if self.matches(entry.actor, *cells.values()):
                AUDIT_COLUMNS.row(table, cells, key=str(entry.id))
                shown += 1
        if not self.data:
            self.status("No changes recorded yet for this client")
        else:
            more = f" (the newest {LIMIT})" if len(self.data) == LIMIT else ""
            self.status(f"{shown} of {len(self.data)} changes{more} · Enter shows one in full")

    @on(DataTable.RowSelected)
    def _row(self) -> None:
        self.action_detail()

    def action_detail(self) -> None:
        key = self.cursor_key(self.query_one(DataTable))
        entry = next((e for e in self.data if str(e.id) == key), None)
        if entry is None:
            return
        body = detail(entry)

        def closed(result: str | None) -> None:
            if result == "copy":
                self.copy(body, "Audit entry")

        self.app.push_screen(TextViewDialog(f"{entry.action} {entry.target or ''}", body), closed)
