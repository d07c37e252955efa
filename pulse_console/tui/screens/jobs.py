"""Jobs (home): the client's jobs, the orchestrator, live progress, and the controls."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.widgets import DataTable, Static

from pulse_console.tui.dialogs.confirm import ConfirmDialog
from pulse_console.tui.format import countdown, short_when, status, when
from pulse_console.tui.messages import ControlDone, JobsLoaded, ProgressUpdated
from pulse_console.tui.ports import (
    Control,
    JobProgress,
    JobsChanged,
    JobView,
    OrchestratorView,
    ProgressChanged,
    RunFinished,
)
from pulse_console.tui.screens.base import PulseScreen
from pulse_console.tui.widgets.common.columns import Column, ColumnSets
from pulse_console.tui.widgets.jobs.progress_panel import ProgressPanel

CONFIRM: dict[str, tuple[str, str]] = {
    "stop": (
        "Stop {job}?",
        "The run stops before its next API request and keeps its "
        "checkpoint; the next run resumes from there.",
    ),
    "pause": ("Pause {job}?", "The job stays PAUSED (never silently FINISHED) until resumed."),
    "set_active": (
        "Make {job} the active job?",
        "{job} becomes PENDING and every other job "
        "FINISHED; the orchestrator starts it at its next tick.",
    ),
    "orchestrator_pause": (
        "Pause the orchestrator?",
        "No new job starts until you resume it; a running job finishes its run.",
    ),
}


# 80 columns: short dates, the next run as a countdown only, so the reason still shows.
JOB_COLUMNS = ColumnSets(
    wide=(
        Column("job", "Job", 16),
        Column("status", "Status", 9),
        Column("last_run", "Last run", 16),
        Column("next_run", "Next run", 30),
        Column("retries", "Retries", 7),
        Column("records", "Records", 8),
        Column("reason", "Reason", None),
    ),
    narrow=(
        Column("job", "Job", 16),
        Column("status", "Status", 8),
        Column("last_run_short", "Last run", 11),
        Column("next_run_short", "Next run", 9),
        Column("retries", "Retry", 5),
        Column("records", "Records", 7),
        Column("reason", "Reason", None),
    ),
)


class JobsScreen(PulseScreen):
    SCOPE: ClassVar[str] = "jobs"
    BUSY: ClassVar[bool] = True
    COLUMNS = ("#jobs", JOB_COLUMNS)
    CSS_PATH = "jobs.tcss"

    def __init__(self) -> None:
        super().__init__()
        self.job_rows: list[JobView] = []
        self.orch: OrchestratorView | None = None
        self.progress: JobProgress | None = None
        self._streaming = False

    def compose_body(self) -> ComposeResult:
        yield Static(id="orchestrator")
        table: DataTable[str | Text] = DataTable(id="jobs", cursor_type="row", zebra_stripes=True)
        yield table
        yield ProgressPanel(id="progress")

    def on_mount(self) -> None:
        if self.ctx.live:
            self.set_interval(1.0, self._tick)
            self.set_interval(15.0, self.reload)

    def columns_changed(self) -> None:
        if self.job_rows:
            self._redraw()

    def on_screen_resume(self) -> None:
        # No super(): Textual calls PulseScreen's handler too (it walks the MRO).
        if self.ctx.live and not self._streaming:
            self._streaming = True
            self._stream_events()

    def reload(self) -> None:
        self._load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="jobs-load")
    def _load(self) -> None:
        port = self.ctx.jobs
        self.post_message(JobsLoaded(port.jobs(), port.orchestrator()))
        self.post_message(ProgressUpdated(port.progress()))

    @work(thread=True, exclusive=True, exit_on_error=False, group="jobs-events")
    def _stream_events(self) -> None:
        port = self.ctx.jobs
        for event in port.events():
            if isinstance(event, ProgressChanged):
                self.post_message(ProgressUpdated(event.progress))
            elif isinstance(event, JobsChanged | RunFinished):
                self.post_message(JobsLoaded(port.jobs(), port.orchestrator()))
                if isinstance(event, RunFinished):
                    self.post_message(ProgressUpdated(port.progress()))

    def on_jobs_loaded(self, message: JobsLoaded) -> None:
        self.job_rows = message.jobs
        self.orch = message.orchestrator
        self.pulse.job_rows = message.jobs
        self.pulse.worker_label = _worker_label(message.orchestrator)
        self._redraw()

    def on_progress_updated(self, message: ProgressUpdated) -> None:
        self.progress = message.progress
        self.query_one(ProgressPanel).show(self.progress, self.ctx.clock())

    def _tick(self) -> None:
        if self.is_current and self.job_rows:
            self._redraw()
            self.query_one(ProgressPanel).show(self.progress, self.ctx.clock())

    def _redraw(self) -> None:
        now = self.ctx.clock()
        table = self.query_one("#jobs", DataTable)
        selected = self.selected_job
        table.clear()
        for job in self.job_rows:
            if not self.matches(job.name, job.status, job.status_reason or ""):
                continue
            next_run = when(job.next_run_at)
            if job.next_run_at:
                next_run += f" ({countdown(job.next_run_at, now)})"
            cells = {
                "job": job.name,
                "status": status(job.status),
                "last_run": when(job.last_run_at),
                "last_run_short": short_when(job.last_run_at),
                "next_run": next_run,
                "next_run_short": countdown(job.next_run_at, now),
                "retries": f"{job.retry_count}/{job.max_retries}",
                "records": "—" if job.last_records is None else f"{job.last_records:,}",
                "reason": job.status_reason or "",
            }
            JOB_COLUMNS.row(table, cells, key=job.name)
        if selected and selected in table.rows:
            table.move_cursor(row=table.get_row_index(selected))
        orch = self.orch
        if orch is not None:
            state = "PAUSED" if orch.paused else ("RUNNING" if orch.running else "STOPPED")
            line = Text.assemble(
                "Orchestrator ",
                status(state) if state != "STOPPED" else Text("STOPPED", "bold red"),
                f" · next tick {when(orch.next_tick_at)} ({countdown(orch.next_tick_at, now)})",
                f" · {_worker_label(orch)}",
            )
            self.query_one("#orchestrator", Static).update(line)
        if not self.job_rows:
            self.status(
                "No jobs for this client yet. Add an integration (:integrations, a); "
                "its sync job appears here."
            )
        else:
            shown = table.row_count
            suffix = f" · filter “{self.filter_text}”" if self.filter_text else ""
            self.status(f"{shown} of {len(self.job_rows)} job(s){suffix} · ? for keys")

    def apply_filter(self, text: str) -> None:
        self._redraw()

    @property
    def selected_job(self) -> str | None:
        table = self.query_one("#jobs", DataTable)
        if table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        return str(key.value) if key.value is not None else None

    def _job(self, name: str | None) -> JobView | None:
        return next((j for j in self.job_rows if j.name == name), None)

    @on(DataTable.RowHighlighted, "#jobs")
    def _highlighted(self) -> None:
        self.pulse.selected_job = self.selected_job

    # --- controls ---------------------------------------------------------------------

    def disabled_reason(self, action: str) -> str | None:
        job = self._job(self.selected_job)
        running = next((j for j in self.job_rows if j.status == "RUNNING"), None)
        name = action.split("'")[1] if "'" in action else action
        if name in {"start", "stop", "pause", "resume", "set_active"} and job is None:
            return "no job selected"
        assert job is not None or name not in {"start", "stop", "pause", "resume", "set_active"}
        if name == "start":
            assert job is not None
            if running is not None:
                return f"another job is running ({running.name})"
            if job.status == "PAUSED":
                return f"{job.name} is paused: resume it instead"
        elif name in {"stop", "pause"}:
            assert job is not None
            if job.status != "RUNNING":
                return f"{job.name} is not running"
        elif name == "resume":
            assert job is not None
            if job.status != "PAUSED":
                return f"{job.name} is not paused"
            if running is not None:
                return f"another job is running ({running.name})"
        elif name == "set_active":
            assert job is not None
            if running is not None:
                return f"{running.name} is running: stop it first"
        elif name == "orchestrator_tick":
            if self.orch is not None and self.orch.paused:
                return "the orchestrator is paused: resume it first"
            if running is not None:
                return f"{running.name} is already running"
        return None

    def action_job(self, action: Control) -> None:
        self._request(action, self.selected_job, f"job('{action}')")

    def action_orchestrator(self, action: Control) -> None:
        self._request(action, None, action)

    def action_toggle_orchestrator(self) -> None:
        paused = self.orch is not None and self.orch.paused
        self._request("orchestrator_resume" if paused else "orchestrator_pause", None, "")

    def action_history(self) -> None:
        self.pulse.selected_job = self.selected_job
        self.pulse.switch_to("runs")

    def _request(self, action: Control, job: str | None, key: str) -> None:
        reason = self.disabled_reason(key or action)
        if reason:
            self.notify(f"Cannot {action.replace('_', ' ')}: {reason}.", severity="warning")
            return
        if action in CONFIRM:
            title, body = (t.format(job=job or "") for t in CONFIRM[action])

            def answer(yes: bool | None) -> None:
                if yes:
                    self._control(action, job)

            self.app.push_screen(ConfirmDialog(title, body, confirm="Yes"), answer)
        else:
            self._control(action, job)

    @work(thread=True, exclusive=False, exit_on_error=False, group="jobs-control")
    def _control(self, action: Control, job: str | None) -> None:
        self.ctx.jobs.control(action, job)
        self.post_message(ControlDone(action, job))

    def on_control_done(self, message: ControlDone) -> None:
        target = f" {message.job}" if message.job else ""
        self.notify(f"{message.action.replace('_', ' ').capitalize()}{target}: sent.")
        self.reload()


def _worker_label(orch: OrchestratorView) -> str:
    if orch.mode == "attached":
        return f"attached · {orch.worker or 'remote'}"
    if orch.mode == "none":
        return "none"
    return "embedded"
