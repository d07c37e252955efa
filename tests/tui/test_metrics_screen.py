"""The Metrics screen against the real database: drill-downs and the period/project filters."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import Engine

from pulse_console.metrics.filters import MetricFilter
from pulse_console.metrics.flow_metrics import completed_items, time_in_steps
from pulse_console.services.metrics import MetricsView
from pulse_console.tui.app import PulseApp
from pulse_console.tui.context import ConsoleContext
from pulse_console.tui.dialogs.error import ErrorDialog
from pulse_console.tui.screens.metrics import MetricsScreen
from pulse_console.tui.screens.metrics_drill import MetricsDrillScreen
from pulse_console.tui.widgets.metrics.drill_table import DrillTable
from pulse_console.tui.widgets.metrics.flow_table import FlowTable
from tests.metrics.seed import CLIENT, Seeder
from tests.tui.fakes import NOW
from tests.tui.metrics_seed import seed_delivery
from tests.tui.workers import workers_done


async def ready(pilot: Any) -> None:
    for _ in range(3):
        await pilot.pause()
        await workers_done(pilot.app)
    await pilot.pause()


def metrics_screen(app: PulseApp) -> MetricsScreen:
    screen = app.screen
    assert isinstance(screen, MetricsScreen)
    return screen


def shown(app: PulseApp) -> MetricsView:
    view = metrics_screen(app).view
    assert view is not None
    return view


def drill_keys(app: PulseApp) -> list[str]:
    assert isinstance(app.screen, MetricsDrillScreen)
    table = app.screen.query_one(DrillTable)
    return [str(table.get_row_at(n)[0]) for n in range(table.row_count)]


def period(days: int, **kw: Any) -> MetricFilter:
    return MetricFilter.last_days(CLIENT, days, now=NOW).with_(**kw)


async def test_lead_time_drill_down_lists_the_items_completed_in_the_period(
    tenant: Engine, ctx: ConsoleContext
) -> None:
    seed_delivery(tenant)
    with tenant.connect() as conn:
        want = [i.key for i in completed_items(conn, period(90))]
    app = PulseApp(ctx, start="metrics")
    async with app.run_test(size=(100, 32)) as pilot:
        await ready(pilot)
        before = shown(app)
        assert before.flow is not None
        table = metrics_screen(app).query_one(FlowTable)
        table.move_cursor(row=table.get_row_index("lead"))
        await pilot.press("enter")
        await ready(pilot)
        assert isinstance(app.screen, MetricsDrillScreen)
        assert drill_keys(app) == want and len(want) == 18
        await pilot.press("escape")
        await ready(pilot)
        assert isinstance(app.screen, MetricsScreen)
        assert shown(app) is before  # back from a drill-down: nothing is computed again


async def test_a_step_drill_down_lists_the_items_that_spent_time_in_it(
    tenant: Engine, ctx: ConsoleContext
) -> None:
    seed_delivery(tenant)
    with tenant.connect() as conn:
        review = next(s for s in time_in_steps(conn, period(90)) if s.step == "Review")
    app = PulseApp(ctx, start="metrics")
    async with app.run_test(size=(100, 32)) as pilot:
        await ready(pilot)
        table = metrics_screen(app).query_one(FlowTable)
        table.move_cursor(row=table.get_row_index(f"step:{review.step_id}"))
        await pilot.press("enter")
        await ready(pilot)
        keys = drill_keys(app)
        assert len(keys) == review.items > 0
        what = str(app.screen.query_one("#drill-what").render())
        assert what.startswith("Time in Review: the work items that spent time in this step")


async def test_wip_has_no_list_and_says_so(tenant: Engine, ctx: ConsoleContext) -> None:
    seed_delivery(tenant)
    app = PulseApp(ctx, start="metrics")
    async with app.run_test(size=(100, 32)) as pilot:
        await ready(pilot)
        table = metrics_screen(app).query_one(FlowTable)
        table.move_cursor(row=table.get_row_index("wip"))
        await pilot.press("enter")
        await ready(pilot)
        assert isinstance(app.screen, MetricsScreen)
        status = str(app.screen.query_one("#status").render())
        assert status.startswith("WIP has no list of its own")


async def test_period_keys_change_the_figures(tenant: Engine, ctx: ConsoleContext) -> None:
    seed_delivery(tenant)
    with tenant.connect() as conn:
        done = {days: len(completed_items(conn, period(days))) for days in (30, 90, 180)}
    assert len(set(done.values())) == 3  # the seed makes the three periods differ
    app = PulseApp(ctx, start="metrics")
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        for key, days in (("1", 30), ("6", 180), ("3", 90)):
            await pilot.press(key)
            await ready(pilot)
            view = shown(app)
            assert view.query.days == days
            assert view.since == NOW.replace(hour=0, minute=0) - timedelta(days=days)
            assert view.flow is not None and view.flow.summary.completed == done[days]
            period_line = str(app.screen.query_one("#metrics-period").render())
            assert period_line.startswith(f"Last {days} days")


async def test_project_filter_narrows_figures_and_drill_down_to_that_project(
    tenant: Engine, ctx: ConsoleContext
) -> None:
    seed_delivery(tenant)
    with tenant.connect() as conn:
        want = [i.key for i in completed_items(conn, period(90, project="BET"))]
    app = PulseApp(ctx, start="metrics")
    async with app.run_test(size=(100, 32)) as pilot:
        await ready(pilot)
        everything = shown(app)
        assert everything.projects == ["ALP", "BET"]
        await pilot.press("p")
        await pilot.pause()
        await pilot.press(*"BET", "enter")
        await ready(pilot)
        view = shown(app)
        assert view.query.project == "BET"
        assert view.flow is not None and everything.flow is not None
        assert 0 < view.flow.summary.completed < everything.flow.summary.completed
        table = metrics_screen(app).query_one(FlowTable)
        table.move_cursor(row=table.get_row_index("lead"))
        await pilot.press("enter")
        await ready(pilot)
        assert drill_keys(app) == want
        assert want and all(k.startswith("BET-") for k in want)


async def test_a_failure_is_shown_in_the_screen_in_words(
    tenant: Engine, ctx: ConsoleContext
) -> None:
    seed_delivery(tenant)
    app = PulseApp(ctx, start="metrics")
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        screen = metrics_screen(app)
        assert screen.query_one(FlowTable).row_count > 0
        with tenant.begin() as conn:
            Seeder(conn).setting("metrics.benchmark_year", 1999)
        await pilot.press("r")
        await ready(pilot)
        error = screen.query_one("#metrics-error")
        assert error.display and not isinstance(app.screen, ErrorDialog)
        text = str(error.render())
        assert text.startswith("Unknown benchmark year: no DORA benchmark rows for 1999")
        assert screen.query_one("#metrics-body").loading is False
        # The figures of before are gone, not left standing under the error.
        assert screen.view is None and screen.query_one(FlowTable).row_count == 0
