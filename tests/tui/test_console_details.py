"""Small things an operator trips on: all jobs' runs, copy feedback, names people read,
help that scrolls on a small terminal, clipped text that can be read in full."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console
from textual.containers import VerticalScroll
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import DataTable, Static

from pulse_console.tui.app import PulseApp
from pulse_console.tui.context import ConsoleContext
from pulse_console.tui.dialogs.help import HelpDialog
from pulse_console.tui.dialogs.text_view import TextViewDialog
from pulse_console.tui.screens.file_view import FileViewScreen
from pulse_console.tui.screens.runs import RunsScreen
from pulse_console.tui.widgets.common.context_header import ContextHeader
from tests.tui.fakes import FakeJobs, running_progress, seeded_jobs
from tests.tui.workers import workers_done


async def settle(app: PulseApp, pilot: Pilot[None]) -> None:
    for _ in range(3):
        await workers_done(app)
        await pilot.pause()


def notes(app: PulseApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


def text_of(screen: Screen[object]) -> str:
    """Every Static's text as the terminal shows it (Rich tables included)."""
    console = Console(width=120, file=io.StringIO(), record=True)
    for widget in screen.query(Static):
        console.print(widget.content)
    return console.export_text()


async def test_runs_show_every_jobs_runs_on_a_toggle(ctx: ConsoleContext) -> None:
    ctx.jobs = FakeJobs(seeded_jobs(), running_progress(True))
    app = PulseApp(ctx)
    async with app.run_test(size=(100, 32)) as pilot:
        app.selected_job = "sandbox-jira"
        app.switch_to("runs")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, RunsScreen)
        table = screen.query_one(DataTable)
        assert table.row_count == 1 and "of sandbox-jira" in str(
            screen.query_one("#status").render()
        )
        await pilot.press("a")
        await settle(app, pilot)
        assert table.row_count == 2 and "of every job" in str(screen.query_one("#status").render())
        await pilot.press("a")
        await settle(app, pilot)
        assert table.row_count == 1


async def test_copying_a_run_detail_says_it_was_copied(ctx: ConsoleContext) -> None:
    ctx.jobs = FakeJobs(seeded_jobs(), running_progress(True))
    app = PulseApp(ctx)
    async with app.run_test(size=(100, 32)) as pilot:
        app.switch_to("runs")
        await settle(app, pilot)
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, TextViewDialog)
        await pilot.press("c")
        await settle(app, pilot)
        assert any("copied to the clipboard" in n for n in notes(app))


async def test_the_log_file_viewer_has_a_title_people_read_and_help_lists_everywhere_once(
    ctx: ConsoleContext, tmp_path: Path
) -> None:
    path = tmp_path / "logs" / "pulse.log"
    path.write_text("one\ntwo\n")
    app = PulseApp(ctx)
    async with app.run_test(size=(100, 32)) as pilot:
        app.push_screen(FileViewScreen(path))
        await settle(app, pilot)
        assert app.screen.query_one(ContextHeader).screen_title == "Log file"
        await pilot.press("question_mark")
        await settle(app, pilot)
        assert isinstance(app.screen, HelpDialog)
        assert text_of(app.screen).count("Everywhere") == 1
        assert "file_view" not in text_of(app.screen)


async def test_help_scrolls_to_its_end_at_80x24(ctx: ConsoleContext) -> None:
    ctx.jobs = FakeJobs(seeded_jobs(), running_progress(True))
    app = PulseApp(ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        app.switch_to("jobs")
        await settle(app, pilot)
        await pilot.press("question_mark")
        await settle(app, pilot)
        scroll = app.screen.query_one("#help", VerticalScroll)
        assert scroll.max_scroll_y > 0  # more help than fits: it must scroll
        await pilot.press("end")
        await settle(app, pilot)
        assert scroll.scroll_y == scroll.max_scroll_y
        hint = app.screen.query_one(".hint", Static)
        assert scroll.region.contains_region(hint.region)  # the last line is in sight


async def test_a_health_check_opens_in_full_from_its_row(ctx: ConsoleContext) -> None:
    ctx.jobs = FakeJobs(seeded_jobs(), running_progress(True))
    app = PulseApp(ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        app.switch_to("health")
        await settle(app, pilot)
        await pilot.press("down")  # the orchestrator: its detail is longer than its column
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, TextViewDialog)
        assert "next tick" in text_of(app.screen)
