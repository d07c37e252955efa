"""A list screen polls only while it shows, and each successful load arms the next poll."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from textual.pilot import Pilot

from pulse_console.tui.app import PulseApp
from pulse_console.tui.dialogs.confirm import ConfirmDialog
from pulse_console.tui.screens.health import HealthScreen
from pulse_console.tui.screens.list_screen import ListScreen
from storage.db import Database
from tests.tui.conftest import make_ctx
from tests.tui.fakes import FakeJobs, seeded_jobs
from tests.tui.test_connection_banner import wait_until
from tests.tui.workers import workers_done

PERIOD = 0.1


class QuickHealth(HealthScreen):
    """The Health screen polling every 0.1 s instead of 10 s, so a test can watch it."""

    POLL_SECONDS: ClassVar[float | None] = PERIOD


class QuickHealthApp(PulseApp):
    MODES = {**PulseApp.MODES, "health": QuickHealth}


async def loads_while_idle(pilot: Pilot[None], screen: ListScreen[Any]) -> int:
    """Loads during ten poll periods, after a load still in flight has landed."""
    await pilot.pause(3 * PERIOD)
    await workers_done(pilot.app)
    before = screen.loads
    await pilot.pause(10 * PERIOD)
    return screen.loads - before


async def test_a_list_screen_polls_only_while_it_shows(database: Database, tmp_path: Path) -> None:
    ctx = make_ctx(database, tmp_path, FakeJobs(seeded_jobs()), live=True)
    app = QuickHealthApp(ctx, start="health")
    async with app.run_test(size=(100, 32)) as pilot:
        health = app.screen
        assert isinstance(health, QuickHealth)
        # One timer per load: three loads mean the poll re-armed itself after each.
        await wait_until(pilot, lambda: health.loads >= 3, "the poll re-arming after loads")

        app.switch_to("runs")
        assert await loads_while_idle(pilot, health) == 0, "a hidden screen polled"

        app.switch_to("health")  # coming back reloads, and that load re-arms the poll
        shown = health.loads
        await wait_until(pilot, lambda: health.loads >= shown + 3, "polling after coming back")

        app.push_screen(ConfirmDialog("Sure?", "A dialog over the Health screen."))
        assert await loads_while_idle(pilot, health) == 0, "a screen under a dialog polled"

        app.pop_screen()
        under = health.loads
        await wait_until(pilot, lambda: health.loads >= under + 3, "polling after the dialog")
