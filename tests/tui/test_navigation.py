from __future__ import annotations

from textual.widgets import DataTable

from pulse_console.tui.app import PulseApp
from pulse_console.tui.context import ConsoleContext
from pulse_console.tui.keymap import SCREENS
from tests.tui.fakes import FakeJobs, running_progress, seeded_jobs
from tests.tui.test_snapshots import seed_logs
from tests.tui.workers import workers_done


async def test_every_screen_opens_by_name_and_escape_goes_back(ctx: ConsoleContext) -> None:
    ctx.jobs = FakeJobs(seeded_jobs(), running_progress(True))
    app = PulseApp(ctx)
    async with app.run_test(size=(100, 32)) as pilot:
        for name in SCREENS:
            app.switch_to(name)
            await pilot.pause()
            await workers_done(app)
            await pilot.pause()
            assert app.current_mode == name
        await pilot.press("question_mark")
        await pilot.pause()
        await pilot.press("escape")
        await pilot.press("escape")
        await pilot.pause()
        assert app.current_mode == list(SCREENS)[-2]


async def test_log_columns_follow_the_timestamp_toggle_and_the_width(
    ctx: ConsoleContext,
) -> None:
    seed_logs(ctx.services.database, 5)
    app = PulseApp(ctx)
    async with app.run_test(size=(130, 32)) as pilot:
        app.switch_to("logs")
        await pilot.pause()
        await workers_done(app)
        await pilot.pause()
        table = app.screen.query_one(DataTable)

        def columns() -> list[tuple[str, int]]:
            return [(str(k.value), c.width) for k, c in table.columns.items()]

        assert [k for k, _ in columns()] == ["ts", "level", "job", "run", "message"]
        assert table.row_count == 5
        await pilot.press("t")
        await pilot.pause()
        assert [k for k, _ in columns()] == ["level", "job", "run", "message"]
        assert table.row_count == 5  # the rows are drawn again in the new columns
        wide_message = columns()[-1][1]
        await pilot.resize_terminal(90, 32)
        await pilot.pause()
        await pilot.pause()
        assert columns()[-1][1] < wide_message and table.row_count == 5
