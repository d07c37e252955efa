"""Jobs (home): the client's jobs, the orchestrator, live progress, and the controls.

Whether a control is allowed, and why not, is the engine's answer (`controls.why_not` on the
rows shown); the screen only asks for confirmation where a control interrupts work, and
asks the engine again when the operator confirms: the job may have changed meanwhile.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.widgets import DataTable, Static

from pulse_console.engine.controls import why_not
from pulse_console.tui.dialogs.confirm import ConfirmDialog
from pulse_console.tui.format import countdown, status, when
from pulse_console.tui.messages import ControlDone, Done, ListLoaded, ProgressUpdated
from pulse_console.tui.ports import (
    Control,
    ControlRefused,
    JobsChanged,
    JobView,
    LiveProgress,
    OrchestratorView,
    ProgressChanged,
    RunFinished,
)
from pulse_console.tui.screens.list_screen import ListScreen
from pulse_console.tui.widgets.common.columns import Column, ColumnSets
from pulse_console.tui.widgets.jobs.progress_panel import ProgressPanel

CONFIRM: dict[Control, tuple[str, str]] = {
    Control.STOP: (
        "Stop {job}?",
        "The run stops before its next API request and keeps its "
        "checkpoint; the next run resumes from there.",
    ),
    Control.PAUSE: (
        "Pause {job}?",
        "The job stays PAUSED (never silently FINISHED) until resumed.",
    ),
    Control.SET_ACTIVE: (
        "Make {job} the active job?",
        "{job} becomes PENDING and every other job "
        "FINISHED; the orchestrator starts it at its next tick.",
    ),
    Control.ORCHESTRATOR_PAUSE: (
        "Pause the orchestrator?",
        "No new job starts until you resume it; a running job finishes its run.",
    ),
}


# Below 120 columns: the next run as a countdown only and no last run (the detail line under
# the table says it, with the whole reason), so the job's name and the reason have room; the
# name column grows with the width (up to 28, a long integration name) while the reason
# keeps 24 cells.
JOB_COLUMNS = ColumnSets(
    wide=(
        Column("job", "Job", 16, grow_to=28),
        Column("status", "Status", 9),
        Column("last_run", "Last run", 16),
        Column("next_run", "Next run", 30),
        Column("retries", "Retries", 7),
        Column("records", "Records", 8),
        Column("reason", "Reason", None),
    ),
    narrow=(
        Column("job", "Job", 16, grow_to=28),
        Column("status", "Status", 8),
        Column("next_run_short", "Next run", 9),
        Column("retries", "Retry", 5),
        Column("records", "Records", 7),
        Column("reason", "Reason", None),
    ),
    rest_keeps=24,
)


@dataclass(frozen=True)
class JobsState:
    """What one load reads: the job rows and the orchestrator's state."""

    jobs: list[JobView]
    orchestrator: OrchestratorView | None = None

    def __bool__(self) -> bool:
        return bool(self.jobs)


class JobsScreen(ListScreen[JobsState]):
    SCOPE: ClassVar[str] = "jobs"
    BUSY: ClassVar[bool] = True
    POLL_SECONDS: ClassVar[float | None] = 15.0
    COLUMNS = ("#jobs", JOB_COLUMNS)
    CSS_PATH = "jobs.tcss"

    def __init__(self) -> None:
        super().__init__(JobsState([]))
        self.progress: LiveProgress | None = None
        self._streaming = False

    def compose_body(self) -> ComposeResult:
        yield Static(id="orchestrator")
        table: DataTable[str | Text] = DataTable(id="jobs", cursor_type="row", zebra_stripes=True)
        yield table
        yield Static(id="job-detail")
        yield ProgressPanel(id="progress")

    def on_mount(self) -> None:
        if self.ctx.live:
            self.set_interval(1.0, self._tick)

    @property
    def job_rows(self) -> list[JobView]:
        return self.data.jobs

    @property
    def orch(self) -> OrchestratorView | None:
        return self.data.orchestrator

    def on_screen_resume(self) -> None:
        # No super(): Textual calls PulseScreen's handler too (it walks the MRO).
        if self.ctx.live and not self._streaming:
            self._streaming = True
            self._stream_events()

    def fetch(self) -> JobsState:
        port = self.ctx.jobs
        state = JobsState(port.jobs(), port.orchestrator())
        self.post_message(ProgressUpdated(port.progress()))
        return state

    @work(thread=True, exclusive=True, exit_on_error=False, group="jobs-events")
    def _stream_events(self) -> None:
        port = self.ctx.jobs
        for event in port.events():
            if isinstance(event, ProgressChanged):
                self.post_message(ProgressUpdated(event.progress))
            elif isinstance(event, JobsChanged | RunFinished):
                self.post_message(ListLoaded(JobsState(port.jobs(), port.orchestrator())))
                if isinstance(event, RunFinished):
                    self.post_message(ProgressUpdated(port.progress()))

    def loaded(self, data: JobsState) -> None:
        self.pulse.job_rows = data.jobs
        if data.orchestrator is not None:
            self.pulse.worker_label = _worker_label(data.orchestrator)
        super().loaded(data)

    def on_progress_updated(self, message: ProgressUpdated) -> None:
        self.progress = message.progress
        self.query_one(ProgressPanel).show(self.progress, self.ctx.clock())

    def _tick(self) -> None:
        if self.is_current and self.job_rows:
            self.redraw()
            self.query_one(ProgressPanel).show(self.progress, self.ctx.clock())

    def redraw(self) -> None:
        now = self.ctx.clock()
        table = self.query_one("#jobs", DataTable)
        selected = self.selected_job
        table.clear()
        max_retries = self.orch.max_retries if self.orch is not None else 3
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
                "next_run": next_run,
                "next_run_short": countdown(job.next_run_at, now),
                "retries": f"{job.retry_count}/{max_retries}",
                "records": "—" if job.last_records is None else f"{job.last_records:,}",
                "reason": job.status_reason or "",
            }
            JOB_COLUMNS.row(table, cells, key=job.name)
        if selected and selected in table.rows:
            table.move_cursor(row=table.get_row_index(selected))
        self._show_detail()
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

    @property
    def selected_job(self) -> str | None:
        return self.cursor_key(self.query_one("#jobs", DataTable))

    @on(DataTable.RowHighlighted, "#jobs")
    def _highlighted(self) -> None:
        self.pulse.selected_job = self.selected_job
        self._show_detail()

    def _show_detail(self) -> None:
        """Below 120 columns: the selected job in full (its last run, the whole reason)."""
        detail = self.query_one("#job-detail", Static)
        detail.display = JOB_COLUMNS.for_width(self.app.size.width) is JOB_COLUMNS.narrow
        job = next((j for j in self.job_rows if j.name == self.selected_job), None)
        if job is None:
            detail.update("")
            return
        detail.update(
            Text.assemble(
                (job.name, "bold"),
                f" · last run {when(job.last_run_at)}",
                f" · next {when(job.next_run_at)}",
                f" · {job.status_reason}" if job.status_reason else "",
            )
        )

    # --- controls ---------------------------------------------------------------------

    def disabled_reason(self, action: str) -> str | None:
        control = self._control_of(action)
        if control is None:
            return None
        return why_not(control, self.selected_job, self.job_rows, paused=self._paused)

    @property
    def _paused(self) -> bool:
        return self.orch is not None and self.orch.paused

    def _control_of(self, action: str) -> Control | None:
        """The control a key or palette action runs: `control('start')`, the toggle."""
        if action == "toggle_orchestrator":
            return Control.ORCHESTRATOR_RESUME if self._paused else Control.ORCHESTRATOR_PAUSE
        if action.startswith("control("):
            return Control(action.split("'")[1])
        return None

    def action_control(self, control: str) -> None:
        self._request(Control(control))

    def action_toggle_orchestrator(self) -> None:
        control = self._control_of("toggle_orchestrator")
        assert control is not None
        self._request(control)

    def action_history(self) -> None:
        self.pulse.selected_job = self.selected_job
        self.pulse.switch_to("runs")

    def _request(self, control: Control) -> None:
        job = self.selected_job if control.needs_job else None
        reason = why_not(control, job, self.job_rows, paused=self._paused)
        if reason:
            self.notify(f"Cannot {control.words}: {reason}.", severity="warning")
            return
        if control in CONFIRM:
            title, body = (t.format(job=job or "") for t in CONFIRM[control])
            seen = next((j.status for j in self.job_rows if j.name == job), None)

            def answer(yes: bool | None) -> None:
                if yes:
                    self._control(control, job, seen)

            self.app.push_screen(ConfirmDialog(title, body, confirm="Yes"), answer)
        else:
            self._control(control, job)

    @work(thread=True, exclusive=False, exit_on_error=False, group="jobs-control")
    def _control(self, control: Control, job: str | None, seen: str | None = None) -> None:
        """Send `control`, checked first against the engine's state now; `seen` is the job's
        status when the operator was asked to confirm (a changed job is not acted on)."""
        port = self.ctx.jobs
        if seen is not None:
            orch = port.orchestrator()
            reason = why_not(control, job, port.jobs(), paused=orch.paused, seen=seen)
            if reason:
                self.post_message(Done(f"Cannot {control.words}: {reason}."))
                return
        try:
            port.control(control, job)
        except ControlRefused as exc:
            self.post_message(Done(f"Cannot {control.words}: {exc}."))
            return
        self.post_message(ControlDone(control, job))

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
