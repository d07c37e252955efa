"""Workers: the pool's worker processes, their heartbeats and the runs they hold now.

A live console reloads it every 2 seconds; a worker silent past the stall timeout shows as
STALLED until another worker takes its runs over (README, "The worker pool").
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.widgets import DataTable

from pulse_console.engine.pool_view import WorkerView
from pulse_console.tui.format import when
from pulse_console.tui.screens.list_screen import ListScreen
from pulse_console.tui.widgets.common.columns import Column, ColumnSets

_NAME = (Column("name", "Worker", 24), Column("host", "Host", 14))
WORKER_COLUMNS = ColumnSets(
    wide=(
        *_NAME,
        Column("heartbeat", "Heartbeat", 16),
        Column("concurrency", "Slots", 5),
        Column("runs", "Current runs", None),
    ),
    narrow=(*_NAME, Column("concurrency", "Slots", 5), Column("runs", "Runs", None)),
)


class WorkersScreen(ListScreen[list[WorkerView]]):
    SCOPE: ClassVar[str] = "workers"
    POLL_SECONDS: ClassVar[float | None] = 2.0
    COLUMNS = ("#workers", WORKER_COLUMNS)

    def __init__(self) -> None:
        super().__init__([])

    def compose_body(self) -> ComposeResult:
        yield DataTable(id="workers", cursor_type="row")

    def fetch(self) -> list[WorkerView]:
        return self.ctx.services.workers.list_workers()

    def redraw(self) -> None:
        table = self.query_one(DataTable)
        table.clear()
        for worker in self.data:
            runs = ", ".join(f"{r.client}/{r.job}" for r in worker.runs) or "idle"
            beat = when(worker.heartbeat) + (" STALLED" if worker.stalled else "")
            cells = {
                "name": worker.name,
                "host": worker.host,
                "heartbeat": beat,
                "concurrency": str(worker.concurrency),
                "runs": runs,
            }
            if self.matches(worker.name, worker.host, runs):
                WORKER_COLUMNS.row(table, cells, key=worker.name)
        if not self.data:
            self.status("No workers: start one with `pulse-console worker` (or open a console)")
        else:
            self.status(f"{len(self.data)} worker(s) in the pool")
