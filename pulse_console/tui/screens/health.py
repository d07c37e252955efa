"""Health: database, each integration's API, orchestrator and worker, log-dir disk."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.widgets import DataTable

from pulse_console.services.health import HealthCheck
from pulse_console.tui.dialogs.text_view import TextViewDialog
from pulse_console.tui.format import status, when
from pulse_console.tui.messages import Done
from pulse_console.tui.screens.list_screen import ListScreen
from pulse_console.tui.widgets.common.columns import Column, ColumnSets

_HEALTH = (Column("component", "Component", 22), Column("state", "State", 7))  # UNKNOWN
# One layout at every width: the detail takes what is left (auto widths were unstable).
HEALTH_COLUMNS = ColumnSets(
    wide=(*_HEALTH, Column("detail", "Detail", None)),
    narrow=(*_HEALTH, Column("detail", "Detail", None)),
)


class HealthScreen(ListScreen[list[HealthCheck]]):
    SCOPE: ClassVar[str] = "health"
    BUSY: ClassVar[bool] = True
    COLUMNS = ("#health", HEALTH_COLUMNS)
    POLL_SECONDS: ClassVar[float | None] = 10.0

    def __init__(self) -> None:
        super().__init__([])

    def compose_body(self) -> ComposeResult:
        yield DataTable(id="health", cursor_type="row")

    def fetch(self) -> list[HealthCheck]:
        ctx = self.ctx
        checks = ctx.services.health.report(ctx.clock())
        orch = ctx.jobs.orchestrator()
        state = "WARN" if orch.paused else ("OK" if orch.running else "FAIL")
        word = "paused" if orch.paused else ("running" if orch.running else "not running")
        where = f"{orch.mode}" + (f" · worker {orch.worker}" if orch.worker else "")
        checks.insert(
            1,
            HealthCheck(
                "Orchestrator", state, f"{word} · {where} · next tick {when(orch.next_tick_at)}"
            ),
        )
        return checks

    def redraw(self) -> None:
        table = self.query_one(DataTable)
        table.clear()
        for check in self.data:
            if self.matches(check.component, check.state, check.detail):
                cells = {
                    "component": check.component,
                    "state": status(check.state),
                    "detail": Text(check.detail),
                }
                HEALTH_COLUMNS.row(table, cells, key=check.component)
        bad = [c.component for c in self.data if c.state == "FAIL"]
        self.status(
            ("Problems: " + ", ".join(bad))
            if bad
            else f"{len(self.data)} checks · t tests every integration's API now"
        )

    @on(DataTable.RowSelected)
    def _row(self) -> None:
        self.action_detail()

    def action_detail(self) -> None:
        """The selected check in full: a long detail is clipped in its column."""
        key = self.cursor_key(self.query_one(DataTable))
        check = next((c for c in self.data if c.component == key), None)
        if check is not None:
            body = f"state    {check.state}\n\n{check.detail}"

            def closed(result: str | None) -> None:
                if result == "copy":
                    self.copy(body, check.component if check else "Check")

            self.app.push_screen(TextViewDialog(check.component, body), closed)

    def action_test_all(self) -> None:
        self._test_all()

    @work(thread=True, exclusive=True, exit_on_error=False, group="health-test")
    def _test_all(self) -> None:
        tested = self.ctx.services.integrations.check_all_active()
        self.post_message(Done(f"Tested {tested} integration(s)"))
