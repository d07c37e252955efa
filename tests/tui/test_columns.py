"""Tables take the column set of the terminal's width, and follow it when it changes."""

from __future__ import annotations

from textual.widgets import DataTable

from pulse_console.tui.app import PulseApp
from pulse_console.tui.context import ConsoleContext
from tests.tui.fakes import FakeJobs, seeded_jobs
from tests.tui.workers import workers_done


def column_keys(table: DataTable[object]) -> list[str]:
    return [str(key.value) for key in table.columns]


async def test_jobs_and_runs_tables_switch_column_sets_on_resize(ctx: ConsoleContext) -> None:
    ctx.jobs = FakeJobs(seeded_jobs())
    app = PulseApp(ctx)
    async with app.run_test(size=(140, 30)) as pilot:
        await workers_done(app)
        await pilot.pause()
        jobs = app.screen.query_one("#jobs", DataTable)
        assert "next_run" in column_keys(jobs) and jobs.row_count == 3
        assert str(jobs.get_cell("sandbox-github", "next_run")) == "2026-01-15 09:41 (in 11m20s)"

        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert column_keys(jobs) == [
            "job", "status", "next_run_short", "retries", "records", "reason"
        ]  # fmt: skip
        assert jobs.row_count == 3  # the rows were drawn again in the new columns
        assert str(jobs.get_cell("sandbox-github", "next_run_short")) == "in 11m20s"

        # A screen that was not showing during the resize fits itself when it comes back.
        app.switch_to("runs")
        await workers_done(app)
        await pilot.pause()
        runs = app.screen.query_one("#runs", DataTable)
        assert "api" not in column_keys(runs) and runs.row_count == 1  # the selected job's
        await pilot.resize_terminal(140, 30)
        await pilot.pause()
        app.switch_to("jobs")
        await workers_done(app)
        await pilot.pause()
        assert "next_run" in column_keys(jobs) and jobs.row_count == 3
