"""A screen says "Loading…" until its data arrives, and says so when the load failed."""

from __future__ import annotations

from pulse_console.tui.app import PulseApp
from pulse_console.tui.context import ConsoleContext
from pulse_console.tui.dialogs.error import ErrorDialog
from pulse_console.tui.widgets.common.status_line import StatusLine
from tests.tui.fakes import FakeJobs
from tests.tui.workers import workers_done


class BrokenJobs(FakeJobs):
    def jobs(self) -> list[object]:  # type: ignore[override]
        # Not a lost connection (that shows the banner, not a dialog): a refusal in words.
        raise PermissionError("the engine's database did not answer")


async def test_a_failed_first_load_says_so_instead_of_loading_forever(ctx: ConsoleContext) -> None:
    ctx.jobs = BrokenJobs()
    app = PulseApp(ctx)
    async with app.run_test(size=(100, 32)) as pilot:
        for _ in range(50):
            if isinstance(app.screen, ErrorDialog):
                break
            await pilot.pause(0.05)
        assert isinstance(app.screen, ErrorDialog)
        jobs_screen = app.screen_stack[0]
        status = str(jobs_screen.query_one("#status", StatusLine).content)
        assert "Failed: the engine's database did not answer" in status
        # Closing it reloads, which fails the same way: said in the status line, no new dialog.
        await pilot.press("escape")
        await workers_done(app)
        for _ in range(10):
            await pilot.pause(0.05)
        assert app.screen is jobs_screen
        assert "Failed: " in str(jobs_screen.query_one("#status", StatusLine).content)
