from __future__ import annotations

from pulse_console.tui.app import PulseApp
from pulse_console.tui.context import ConsoleContext
from pulse_console.tui.keymap import SCREENS
from tests.tui.fakes import FakeJobs, running_progress, seeded_jobs


async def test_every_screen_opens_by_name_and_escape_goes_back(ctx: ConsoleContext) -> None:
    ctx.jobs = FakeJobs(seeded_jobs(), running_progress(True))
    app = PulseApp(ctx)
    async with app.run_test(size=(100, 32)) as pilot:
        for name in SCREENS:
            app.switch_to(name)
            await pilot.pause()
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert app.current_mode == name
        await pilot.press("question_mark")
        await pilot.pause()
        await pilot.press("escape")
        await pilot.press("escape")
        await pilot.pause()
        assert app.current_mode == "health"
