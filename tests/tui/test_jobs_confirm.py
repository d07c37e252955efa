"""The Jobs screen acts on the job the operator confirmed for, and polls only while shown."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual.widgets import DataTable

from pulse_console.tui.app import PulseApp
from pulse_console.tui.dialogs.confirm import ConfirmDialog
from pulse_console.tui.screens import jobs as jobs_module
from pulse_console.tui.screens.jobs import JobsScreen
from storage.db import Database
from tests.tui.conftest import make_ctx
from tests.tui.fakes import FakeJobs, seeded_jobs
from tests.tui.test_connection_banner import wait_until
from tests.tui.test_polling import PERIOD, loads_while_idle


class QuickJobs(JobsScreen):
    """The Jobs screen polling every 0.1 s instead of 15 s, so a test can watch it."""

    POLL_SECONDS: ClassVar[float | None] = PERIOD
    CSS_PATH = str(Path(jobs_module.__file__).with_name("jobs.tcss"))


class QuickJobsApp(PulseApp):
    MODES = {**PulseApp.MODES, "jobs": QuickJobs}


class NotingApp(PulseApp):
    notes: list[str]

    def notify(self, message: str, *args: object, **kwargs: object) -> None:
        self.notes = [*getattr(self, "notes", []), str(message)]
        super().notify(message)


async def test_a_pause_confirmed_after_the_job_finished_does_nothing(
    database: Database, tmp_path: Path
) -> None:
    jobs = FakeJobs(seeded_jobs())  # jira_sync is RUNNING
    app = NotingApp(make_ctx(database, tmp_path, jobs, live=False), start="jobs")
    async with app.run_test(size=(100, 32)) as pilot:
        screen = app.screen
        assert isinstance(screen, JobsScreen)
        table = screen.query_one("#jobs", DataTable)
        await wait_until(pilot, lambda: "jira_sync" in table.rows, "the job rows")
        table.move_cursor(row=table.get_row_index("jira_sync"))
        await pilot.press("p")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog), "the confirmation")
        jobs._set("jira_sync", "FINISHED")  # the run ends while the operator reads the dialog
        await pilot.press("y")
        await wait_until(pilot, lambda: any("nothing was done" in n for n in app.notes), "refusal")
        assert jobs.controls == []
        assert next(j for j in jobs.jobs() if j.name == "jira_sync").status == "FINISHED"


async def test_the_jobs_screen_polls_only_while_it_shows(
    database: Database, tmp_path: Path
) -> None:
    ctx = make_ctx(database, tmp_path, FakeJobs(seeded_jobs()), live=True)
    app = QuickJobsApp(ctx, start="jobs")
    async with app.run_test(size=(100, 32)) as pilot:
        screen = app.screen
        assert isinstance(screen, QuickJobs)
        await wait_until(pilot, lambda: screen.loads >= 3, "the poll re-arming after loads")
        app.switch_to("runs")
        assert await loads_while_idle(pilot, screen) == 0, "the hidden Jobs screen reloaded"
