"""Run history: past runs of the selected job or, with `a`, of every job; Enter shows
checkpoints before/after, `l` its log."""

from __future__ import annotations

import json
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.widgets import DataTable

from pulse_console.tui.dialogs.text_view import TextViewDialog
from pulse_console.tui.format import duration, short_when, status, when
from pulse_console.tui.messages import RunDetailLoaded
from pulse_console.tui.ports import RateBudget, RunSummary
from pulse_console.tui.screens.list_screen import ListScreen
from pulse_console.tui.widgets.common.columns import Column, ColumnSets

# 80 columns: short dates; trigger and API calls only in the run's detail (Enter).
RUN_COLUMNS = ColumnSets(
    wide=(
        Column("run", "Run", 5),
        Column("job", "Job", 16),
        Column("trigger", "Trigger", 8),
        Column("outcome", "Outcome", 9),
        Column("started", "Started", 16),
        Column("took", "Duration", 8),
        Column("records", "Records", 8),
        Column("api", "API", 6),
        Column("error", "Error", None),
    ),
    narrow=(
        Column("run", "Run", 5),
        Column("job", "Job", 15),
        Column("outcome", "Outcome", 9),  # CANCELLED in full
        Column("started_short", "Started", 11),
        Column("took", "Took", 7),
        Column("records", "Records", 7),
        Column("error", "Error", None),
    ),
)


class RunsScreen(ListScreen[list[RunSummary]]):
    SCOPE: ClassVar[str] = "runs"
    BUSY: ClassVar[bool] = True
    COLUMNS = ("#runs", RUN_COLUMNS)

    def __init__(self) -> None:
        super().__init__([])
        self.job: str | None = None
        self.all_jobs = False

    def compose_body(self) -> ComposeResult:
        table: DataTable[str | Text] = DataTable(id="runs", cursor_type="row", zebra_stripes=True)
        yield table

    def reload(self) -> None:
        self.job = None if self.all_jobs else self.pulse.selected_job
        super().reload()

    def action_toggle_all(self) -> None:
        self.all_jobs = not self.all_jobs
        self.reload()

    def fetch(self) -> list[RunSummary]:
        return self.ctx.jobs.runs(self.job)

    def redraw(self) -> None:
        table = self.query_one(DataTable)
        table.clear()
        for run in self.data:
            if not self.matches(run.id, run.job, run.status, run.trigger, run.error or ""):
                continue
            took = (run.finished_at - run.started_at).total_seconds() if run.finished_at else None
            cells = {
                "run": str(run.id),
                "job": run.job,
                "trigger": run.trigger,
                "outcome": status(run.status),
                "started": when(run.started_at),
                "started_short": short_when(run.started_at),
                "took": duration(took),
                "records": f"{run.records:,}",
                "api": f"{run.api_calls:,}",
                "error": (run.error or "")[:80],
            }
            RUN_COLUMNS.row(table, cells, key=str(run.id))
        scope = self.job or "every job"
        other = "a: every job's" if self.job else "a: the selected job's"
        if not self.data:
            self.status(f"No runs of {scope} yet. Start one from :jobs (s). {other}")
        else:
            self.status(
                f"{table.row_count} run(s) of {scope} · Enter opens · l shows its log · {other}"
            )

    def _selected(self) -> int | None:
        key = self.cursor_key(self.query_one(DataTable))
        return int(key) if key is not None else None

    @on(DataTable.RowSelected)
    def _selected_row(self) -> None:
        self.action_open_run()

    def action_open_run(self) -> None:
        run_id = self._selected()
        if run_id is not None:
            self._load_detail(run_id)

    @work(thread=True, exclusive=True, exit_on_error=False, group="run-detail")
    def _load_detail(self, run_id: int) -> None:
        self.post_message(RunDetailLoaded(self.ctx.jobs.run_detail(run_id)))

    def on_run_detail_loaded(self, message: RunDetailLoaded) -> None:
        if message.detail is None:
            self.notify("That run no longer exists.", severity="warning")
            return
        detail = message.detail

        def closed(result: str | None) -> None:
            if result == "copy":
                self.copy(render_detail(detail), f"Run {detail.id}")
            elif result == "logs":
                self._open_logs(detail.id)

        self.app.push_screen(
            TextViewDialog(f"Run {detail.id} · {detail.job} (l: its log)", render_detail(detail)),
            closed,
        )

    def action_run_logs(self) -> None:
        run_id = self._selected()
        if run_id is not None:
            self._open_logs(run_id)

    def _open_logs(self, run_id: int) -> None:
        self.pulse.pending_log_query = f"run:{run_id}"
        self.pulse.switch_to("logs")


def render_detail(run: RunSummary) -> str:
    budget = RateBudget.from_stats(run.stats)
    # Against the run's end: "resets at" stays what it was when the run left it.
    left = budget.describe(run.finished_at or run.started_at) if budget else "—"

    def js(value: object) -> str:
        return json.dumps(value, indent=2, sort_keys=True, default=str) if value else "(none)"

    return (
        f"Outcome   {run.status}   trigger {run.trigger}\n"
        f"Started   {when(run.started_at)}   finished {when(run.finished_at)}\n"
        f"Records   {run.records:,}   API calls {run.api_calls:,}\n"
        f"Budget    {left}\n"
        f"Error     {run.error or '—'}\n\n"
        f"Checkpoint before\n{js(run.checkpoint_before)}\n\n"
        f"Checkpoint after\n{js(run.checkpoint_after)}\n\n"
        f"Stats\n{js(run.stats)}"
    )
