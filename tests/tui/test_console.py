"""The minimal console: a snapshot with fixed data and clock, and a Pilot test on a real DB."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from textual.widgets import DataTable

from pulse_console.engine.status import JobSummary, list_jobs
from pulse_console.tui.app import PulseApp
from storage.db import Database

NOW = datetime(2026, 1, 15, 9, 30, tzinfo=UTC)
JOBS = [
    JobSummary("jira_sync", "FINISHED", 0, datetime(2026, 1, 15, 8, 0, tzinfo=UTC), None, None),
    JobSummary(
        "github_sync",
        "FAILED",
        2,
        datetime(2026, 1, 15, 8, 5, tzinfo=UTC),
        datetime(2026, 1, 15, 8, 20, tzinfo=UTC),
        "503 from api.github.com",
    ),
]


def make_app(jobs: list[JobSummary]) -> PulseApp:
    return PulseApp(
        client="acme", database_label="embedded · pulse", jobs=lambda: jobs, clock=lambda: NOW
    )


async def wait_loaded(pilot: Any) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def test_console_snapshot_120x30(snap_compare: Any) -> None:
    app = make_app(JOBS)
    assert snap_compare(app, terminal_size=(120, 30), run_before=wait_loaded)


def test_console_snapshot_80x24(snap_compare: Any) -> None:
    app = make_app(JOBS)
    assert snap_compare(app, terminal_size=(80, 24), run_before=wait_loaded)


def test_console_snapshot_without_jobs(snap_compare: Any) -> None:
    assert snap_compare(make_app([]), terminal_size=(80, 24), run_before=wait_loaded)


async def test_console_lists_the_jobs_stored_in_the_database(database: Database) -> None:
    with database.engine.begin() as conn:
        conn.execute(text("INSERT INTO clients (id, name) VALUES (1, 'acme'), (2, 'other')"))
        conn.execute(
            text(
                "INSERT INTO jobs (client_id, name, position, status) VALUES"
                " (1, 'jira_sync', 0, 'RUNNING'), (1, 'github_sync', 1, 'PENDING'),"
                " (2, 'jira_sync', 0, 'FAILED')"
            )
        )
    app = PulseApp(
        client="acme",
        database_label=database.label,
        jobs=lambda: list_jobs(database, "acme"),
        clock=lambda: NOW,
    )
    async with app.run_test(size=(100, 30)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        table = app.query_one("#jobs", DataTable)
        assert table.row_count == 2
        assert [str(table.get_row_at(i)[0]) for i in range(2)] == ["jira_sync", "github_sync"]
        assert "RUNNING" in str(table.get_row_at(0)[1])
        await pilot.press("r")
        await app.workers.wait_for_complete()
        assert table.row_count == 2
        await pilot.press("q")
