"""Issue 14: the console shows who you are and what your role may not do.

A viewer's Jobs keys are disabled (pressing them sends nothing), the palette says why
("needs role user"), and the header shows `login · role`; an admin's are not.
"""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable

from pulse_console.tui.app import PulseApp
from pulse_console.tui.palette import PulseCommands
from pulse_console.tui.screens.jobs import JobsScreen
from pulse_console.tui.widgets.common.context_header import ContextHeader
from storage.db import Database
from tests.tui.conftest import make_ctx
from tests.tui.fakes import FakeJobs, seeded_jobs
from tests.tui.test_connection_banner import wait_until
from tests.tui.test_jobs_confirm import NotingApp


async def _entries(app: PulseApp) -> dict[str, str]:
    provider = PulseCommands(app.screen)
    return {title: help_text for title, help_text, _ in provider._entries()}


async def test_a_viewers_control_keys_are_disabled_with_the_reason(
    database: Database, tmp_path: Path
) -> None:
    jobs = FakeJobs(seeded_jobs())
    ctx = make_ctx(database, tmp_path, jobs, role="viewer", operator="vera · viewer")
    app = NotingApp(ctx, start="jobs")
    async with app.run_test(size=(120, 32)) as pilot:
        screen = app.screen
        assert isinstance(screen, JobsScreen)
        table = screen.query_one("#jobs", DataTable)
        await wait_until(pilot, lambda: "sandbox-github" in table.rows, "the job rows")
        table.move_cursor(row=table.get_row_index("sandbox-github"))
        await pilot.press("s", "o")
        await pilot.pause()
        assert jobs.controls == []
        assert screen.check_action("control", ("start",)) is None
        assert screen.check_action("history", ()) is True
        entries = await _entries(app)
        assert entries["Start"].endswith("unavailable: needs role user")
        assert "unavailable" not in entries["History"]
        header = screen.query_one(ContextHeader)
        assert "vera · viewer" in str(header.render())


async def test_an_admin_uses_every_key_and_the_owner_header_names_no_login(
    database: Database, tmp_path: Path
) -> None:
    jobs = FakeJobs(seeded_jobs())
    app = NotingApp(make_ctx(database, tmp_path, jobs), start="jobs")  # the owner: admin
    async with app.run_test(size=(120, 32)) as pilot:
        screen = app.screen
        assert isinstance(screen, JobsScreen)
        table = screen.query_one("#jobs", DataTable)
        await wait_until(pilot, lambda: "sandbox-github" in table.rows, "the job rows")
        assert screen.check_action("control", ("start",)) is True
        entries = await _entries(app)
        assert "needs role" not in entries["Start"]
        assert "·  " not in str(screen.query_one(ContextHeader).render())


async def test_a_users_integration_keys_need_an_admin(database: Database, tmp_path: Path) -> None:
    ctx = make_ctx(database, tmp_path, role="user", operator="uma · user")
    app = NotingApp(ctx, start="integrations")
    async with app.run_test(size=(120, 32)) as pilot:
        await pilot.pause()
        entries = await _entries(app)
        assert entries["Add"].endswith("unavailable: needs role admin")
        await pilot.press("a")
        await pilot.pause()
        assert app.screen.__class__.__name__ == "IntegrationsScreen"  # no form opened
