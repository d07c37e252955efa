"""The console's App: a header with client and database, the jobs table, and the footer.

Data comes from a `JobSource` callable (engine read models in production; a fixed list in
snapshot tests), loaded in a thread worker so a slow database never blocks the UI.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import ClassVar

from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Header, Static

from pulse_console import __version__
from pulse_console.engine.status import JobSummary
from pulse_console.tui.messages import JobsLoaded

JobSource = Callable[[], list[JobSummary]]
Clock = Callable[[], datetime]

# Status is shown as a word and a colour, never colour alone (works with NO_COLOR).
STATUS_STYLE = {
    "RUNNING": "bold cyan",
    "PENDING": "yellow",
    "FINISHED": "green",
    "FAILED": "bold red",
    "PAUSED": "magenta",
}


def _when(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if value else "—"


class PulseApp(App[None]):
    """Pulse Console."""

    CSS_PATH = "app.tcss"
    TITLE = "Pulse Console"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "refresh", "Refresh", tooltip="Reload the jobs table"),
        Binding("q", "quit", "Quit", tooltip="Leave the console"),
    ]

    def __init__(
        self,
        *,
        client: str,
        database_label: str,
        jobs: JobSource,
        clock: Clock | None = None,
    ) -> None:
        super().__init__()
        self.client = client
        self.database_label = database_label
        self._jobs = jobs
        self._clock = clock or (lambda: datetime.now(UTC))
        self.sub_title = f"client {client} · db {database_label} · v{__version__}"

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False)
        yield Static(id="context")
        table: DataTable[str] = DataTable(id="jobs", cursor_type="row", zebra_stripes=True)
        yield table
        yield Static(id="empty")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#jobs", DataTable)
        table.add_columns("Job", "Status", "Retries", "Last run", "Next run", "Reason")
        self.query_one("#context", Static).update(
            f"Client [b]{self.client}[/b]   Database [b]{self.database_label}[/b]"
        )
        self.action_refresh()

    def action_refresh(self) -> None:
        self._load_jobs()

    @work(thread=True, exclusive=True, exit_on_error=False, group="jobs")
    def _load_jobs(self) -> None:
        self.post_message(JobsLoaded(self._jobs(), self._clock()))

    def on_jobs_loaded(self, message: JobsLoaded) -> None:
        table = self.query_one("#jobs", DataTable)
        table.clear()
        for job in message.jobs:
            style = STATUS_STYLE.get(job.status, "")
            status = f"[{style}]{job.status}[/]" if style else job.status
            table.add_row(
                job.name,
                status,
                str(job.retry_count),
                _when(job.last_run_at),
                _when(job.next_run_at),
                job.status_reason or "",
                key=job.name,
            )
        empty = self.query_one("#empty", Static)
        if message.jobs:
            empty.update(f"{len(message.jobs)} job(s) · loaded {_when(message.at)}")
        else:
            empty.update(
                "No jobs for this client yet. Add an integration with "
                "`pulse-console integration add …`; its sync job appears here."
            )
