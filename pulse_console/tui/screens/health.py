"""Health: database, each integration's API, orchestrator and worker, log-dir disk."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.widgets import DataTable

from pulse_console.services import health, integrations
from pulse_console.services.health import HealthCheck
from pulse_console.tui.format import status, when
from pulse_console.tui.messages import Done, HealthLoaded
from pulse_console.tui.screens.base import PulseScreen
from pulse_console.tui.widgets.common.columns import Column, ColumnSets

_HEALTH = (Column("component", "Component", 22), Column("state", "State", 6))
# One layout at every width: the detail takes what is left (auto widths were unstable).
HEALTH_COLUMNS = ColumnSets(
    wide=(*_HEALTH, Column("detail", "Detail", None)),
    narrow=(*_HEALTH, Column("detail", "Detail", None)),
)


class HealthScreen(PulseScreen):
    SCOPE: ClassVar[str] = "health"
    BUSY: ClassVar[bool] = True
    COLUMNS = ("#health", HEALTH_COLUMNS)

    def __init__(self) -> None:
        super().__init__()
        self.checks: list[HealthCheck] = []

    def compose_body(self) -> ComposeResult:
        yield DataTable(id="health", cursor_type="row")

    def on_mount(self) -> None:
        if self.ctx.live:
            self.set_interval(10.0, self._poll)

    def _poll(self) -> None:
        if self.is_current and not self.app.screen.is_modal:
            self.reload()

    def columns_changed(self) -> None:
        if self.checks:
            self._redraw()

    def reload(self) -> None:
        self._load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="health")
    def _load(self) -> None:
        ctx = self.ctx
        checks = health.report(ctx.database, ctx.client, ctx.log_dir, ctx.clock())
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
        self.post_message(HealthLoaded(checks))

    def on_health_loaded(self, message: HealthLoaded) -> None:
        self.checks = message.checks
        self._redraw()

    def apply_filter(self, text: str) -> None:
        self._redraw()

    def _redraw(self) -> None:
        table = self.query_one(DataTable)
        table.clear()
        for check in self.checks:
            if self.matches(check.component, check.state, check.detail):
                cells = {
                    "component": check.component,
                    "state": status(check.state),
                    "detail": Text(check.detail),
                }
                HEALTH_COLUMNS.row(table, cells, key=check.component)
        bad = [c.component for c in self.checks if c.state == "FAIL"]
        self.status(
            ("Problems: " + ", ".join(bad))
            if bad
            else f"{len(self.checks)} checks · t tests every integration's API now"
        )

    def action_test_all(self) -> None:
        self._test_all()

    @work(thread=True, exclusive=True, exit_on_error=False, group="health-test")
    def _test_all(self) -> None:
        ctx = self.ctx
        if ctx.secrets is None:
            raise RuntimeError("No secret store is available: set PULSE_ENCRYPTION_KEY.")
        tested = 0
        for item in integrations.list_integrations(ctx.database, ctx.client):
            if item.active:
                integrations.check_saved(ctx.database, ctx.client, item.id, ctx.secrets)
                tested += 1
        self.post_message(Done(f"Tested {tested} integration(s)"))

    def on_done(self, message: Done) -> None:
        self.notify(message.text)
        self.reload()
