"""The log viewer on the real database: follow stays on until the operator moves up, `G`
resumes it, `t` keeps the place, the badge and the preview show what is selected, and
filters are shown, cleared on a fresh arrival and by Esc."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from pulse_console.tui.app import PulseApp
from pulse_console.tui.screens.logs import LogsScreen
from pulse_console.tui.widgets.common.filter_bar import FilterBar
from storage.db import Database
from storage.models import LogEntry
from storage.tenancy import ensure_client
from tests.tui.conftest import make_ctx
from tests.tui.fakes import NOW
from tests.tui.test_snapshots import seed_logs
from tests.tui.workers import workers_done


def add_logs(database: Database, first: int, count: int) -> None:
    """`count` more records after the seeded ones, as a running job writes them."""
    with database.session() as session:
        cid = ensure_client(session, "acme")
        session.execute(
            insert(LogEntry),
            [
                {
                    "client_id": cid,
                    "ts": NOW + timedelta(seconds=first + i),
                    "level": "INFO",
                    "job": "sandbox-jira",
                    "run_id": 77,
                    "logger": "pulse.pipelines",
                    "message": f"arrived {first + i}",
                    "extra": {},
                }
                for i in range(count)
            ],
        )


async def settle(app: PulseApp, pilot: Pilot[None]) -> None:
    for _ in range(4):
        await workers_done(app)
        await pilot.pause()


async def open_logs(app: PulseApp, pilot: Pilot[None]) -> tuple[LogsScreen, DataTable[object]]:
    app.switch_to("logs")
    await settle(app, pilot)
    screen = app.screen
    assert isinstance(screen, LogsScreen)
    return screen, screen.query_one(DataTable)


def visible_rows(table: DataTable[object]) -> range:
    top = round(table.scroll_y)
    return range(top, top + table.scrollable_content_region.height - 1)  # minus the header


async def test_following_keeps_following_as_records_keep_arriving(
    database: Database, tmp_path: Path
) -> None:
    seed_logs(database, 40)
    app = PulseApp(make_ctx(database, tmp_path))
    async with app.run_test(size=(100, 32)) as pilot:
        screen, table = await open_logs(app, pilot)
        await pilot.press("w")  # the preview under the table
        for batch in range(5):
            add_logs(database, batch * 3, 3)
            screen.poll()
            await settle(app, pilot)
            assert screen.following, f"follow turned itself off after batch {batch}"
        assert table.row_count == 55 and table.cursor_row == 54
        assert table.cursor_row in visible_rows(table)
        preview = str(screen.query_one("#preview", Static).render())
        assert preview == "arrived 14"  # the selected, visible, newest row
        assert "FOLLOWING" in str(screen.query_one("#status").render())


async def test_moving_up_pauses_and_G_jumps_to_the_newest_and_follows_again(
    database: Database, tmp_path: Path
) -> None:
    seed_logs(database, 40)
    app = PulseApp(make_ctx(database, tmp_path))
    async with app.run_test(size=(100, 32)) as pilot:
        screen, table = await open_logs(app, pilot)
        await pilot.press("up")
        await settle(app, pilot)
        assert not screen.following
        add_logs(database, 0, 2)
        screen.poll()
        await settle(app, pilot)
        badge = screen.query_one("#badge", Static)
        assert badge.has_class("-show") and "2 new records" in str(badge.render())
        assert table.cursor_row in visible_rows(table)  # the badge took a line, not the row
        await pilot.press("G")
        await settle(app, pilot)
        assert screen.following and not badge.has_class("-show")
        assert table.cursor_row == table.row_count - 1 == 41
        add_logs(database, 2, 1)
        screen.poll()
        await settle(app, pilot)
        assert screen.following and table.cursor_row == 42


async def test_timestamps_toggle_keeps_the_place_and_the_mode(
    database: Database, tmp_path: Path
) -> None:
    seed_logs(database, 40)
    app = PulseApp(make_ctx(database, tmp_path))
    async with app.run_test(size=(100, 32)) as pilot:
        screen, table = await open_logs(app, pilot)
        await pilot.press("t")
        await settle(app, pilot)
        assert screen.following and table.cursor_row == 39
        await pilot.press("up", "up", "up")
        await settle(app, pilot)
        await pilot.press("t")
        await settle(app, pilot)
        assert not screen.following and table.cursor_row == 36
        assert table.cursor_row in visible_rows(table)


async def test_a_runs_filter_is_shown_and_arriving_by_name_starts_unfiltered(
    database: Database, tmp_path: Path
) -> None:
    seed_logs(database, 40)  # runs 40 and 41, 20 records each
    app = PulseApp(make_ctx(database, tmp_path))
    async with app.run_test(size=(100, 32)) as pilot:
        app.pending_log_query = "run:41"  # what a run's "l" leaves for the Logs screen
        screen, table = await open_logs(app, pilot)
        bar = screen.query_one(FilterBar)
        assert bar.display and bar.value == "run:41" and table.row_count == 20
        app.switch_to("jobs")
        await settle(app, pilot)
        await open_logs(app, pilot)
        assert not bar.display and screen.filter_text == "" and table.row_count == 40


async def test_escape_clears_the_filter_and_stays_on_the_screen(
    database: Database, tmp_path: Path
) -> None:
    seed_logs(database, 40)
    app = PulseApp(make_ctx(database, tmp_path))
    async with app.run_test(size=(100, 32)) as pilot:
        app.switch_to("jobs")
        await settle(app, pilot)
        screen, table = await open_logs(app, pilot)
        await pilot.press("slash", *"run:41", "enter")
        await settle(app, pilot)
        assert table.row_count == 20
        table.focus()  # the filter applied, the operator is back in the rows
        await pilot.press("escape")
        await settle(app, pilot)
        assert app.current_mode == "logs" and table.row_count == 40
        assert not screen.query_one(FilterBar).display
        await pilot.press("escape")  # no filter left: now Esc goes back
        await settle(app, pilot)
        assert app.current_mode == "jobs"
