"""The Metrics screen's release/goal filter (`g`): the picker, the scope line under the
period, every figure and drill-down scoped, Esc, clearing, and a release gone since."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text
from textual.widgets import OptionList

from pulse_console.metrics.delivery_overview import delivery_overview
from pulse_console.metrics.flow_metrics import completed_items, flow_summary
from pulse_console.services.metrics import MetricsQuery
from pulse_console.tui.app import PulseApp
from pulse_console.tui.context import ConsoleContext
from pulse_console.tui.dialogs.choose import ChooseDialog
from pulse_console.tui.keymap import commands_for
from pulse_console.tui.widgets.metrics.flow_table import FlowTable
from storage.db import Database
from tests.tui.conftest import make_ctx
from tests.tui.metrics_seed import (
    PLAN_GOAL,
    PLAN_INITIATIVE,
    PLAN_RELEASE,
    seed_delivery,
    seed_plans,
)
from tests.tui.test_metrics_screen import drill_keys, metrics_screen, period, ready, shown
from tests.tui.test_snapshots import SIZES, app_on, settle


def scope_line(app: PulseApp) -> str:
    line = metrics_screen(app).query_one("#metrics-scope")
    return str(line.render()) if line.display else ""


def options(app: PulseApp) -> list[str]:
    assert isinstance(app.screen, ChooseDialog)
    found = app.screen.query_one(OptionList)
    return [str(found.get_option_at_index(n).prompt) for n in range(found.option_count)]


async def pick(pilot: Any, typed: str) -> None:
    await pilot.press("g")
    await pilot.pause()
    await pilot.press(*typed, "enter")
    await ready(pilot)


@pytest.fixture
def planned(tenant: Engine) -> Engine:
    seed_delivery(tenant)
    seed_plans(tenant)
    return tenant


async def test_g_lists_the_clients_releases_and_goals(planned: Engine, ctx: ConsoleContext) -> None:
    app = PulseApp(ctx, start="metrics")
    async with app.run_test(size=(100, 32)) as pilot:
        await ready(pilot)
        await pilot.press("g")
        await pilot.pause()
        assert options(app) == [
            "Everything: no release or goal",
            f"Release {PLAN_RELEASE} · Checkout 2.0",
            f"Goal {PLAN_GOAL} · Faster checkout",
            f"Initiative {PLAN_INITIATIVE} · Mobile first",
        ]
        await pilot.press("escape")
        await ready(pilot)
        assert shown(app).query == MetricsQuery()  # Esc: nothing changed
        assert scope_line(app) == ""


async def test_a_release_scopes_every_figure_and_the_drill_down(
    planned: Engine, ctx: ConsoleContext
) -> None:
    with planned.connect() as conn:
        f = period(90, release=PLAN_RELEASE)
        want_flow = flow_summary(conn, f)
        want_delivery = delivery_overview(conn, f)
        want_lead = [i.key for i in completed_items(conn, f)]
    app = PulseApp(ctx, start="metrics")
    async with app.run_test(size=(100, 32)) as pilot:
        await ready(pilot)
        everything = shown(app)
        await pick(pilot, PLAN_RELEASE)
        view = shown(app)
        assert view.query.release == PLAN_RELEASE and view.query.goal is None
        assert view.flow is not None and everything.flow is not None
        assert view.flow.summary == want_flow
        assert view.dora == want_delivery.dora and view.prs == want_delivery.pr_cycle
        # The scope really narrows each part of the screen.
        assert 0 < want_flow.completed < everything.flow.summary.completed
        assert everything.dora is not None and everything.prs is not None
        assert 0 < want_delivery.dora.deployments < everything.dora.deployments
        assert 0 < want_delivery.pr_cycle.merged < everything.prs.merged
        assert scope_line(app).startswith(f"Release {PLAN_RELEASE} Checkout 2.0 · its items")
        table = metrics_screen(app).query_one(FlowTable)
        table.move_cursor(row=table.get_row_index("lead"))
        await pilot.press("enter")
        await ready(pilot)
        assert drill_keys(app) == want_lead
        assert want_lead and set(want_lead) <= {"ALP-20", "ALP-23", "ALP-26"}
        assert f"release {PLAN_RELEASE}" in str(app.screen.query_one("#drill-what").render())


async def test_a_goal_replaces_the_release_and_everything_clears_the_scope(
    planned: Engine, ctx: ConsoleContext
) -> None:
    with planned.connect() as conn:
        want = flow_summary(conn, period(90, goal=PLAN_GOAL)).completed
        everything = flow_summary(conn, period(90)).completed
    app = PulseApp(ctx, start="metrics")
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pick(pilot, PLAN_RELEASE)
        await pick(pilot, PLAN_GOAL)
        view = shown(app)
        assert (view.query.release, view.query.goal) == (None, PLAN_GOAL)
        assert view.flow is not None and view.flow.summary.completed == want
        assert scope_line(app).startswith(f"Goal {PLAN_GOAL} Faster checkout")
        await pick(pilot, "Everything")
        view = shown(app)
        assert (view.query.release, view.query.goal) == (None, None)
        assert view.flow is not None and view.flow.summary.completed == everything
        assert scope_line(app) == ""


async def test_a_release_deleted_since_it_was_picked_is_refused_in_words(
    planned: Engine, ctx: ConsoleContext
) -> None:
    app = PulseApp(ctx, start="metrics")
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pick(pilot, PLAN_RELEASE)
        with planned.begin() as conn:
            conn.execute(text("DELETE FROM releases"))
        await pilot.press("r")
        await ready(pilot)
        screen = metrics_screen(app)
        error = str(screen.query_one("#metrics-error").render())
        assert error.startswith(
            f"No such release or goal: the client has no release '{PLAN_RELEASE}'"
        )
        assert screen.view is None and screen.query_one(FlowTable).row_count == 0
        await pick(pilot, "Everything")  # the way out: clear the scope
        assert shown(app).query == MetricsQuery()
        assert not screen.query_one("#metrics-error").display


async def test_without_releases_or_goals_g_says_so(tenant: Engine, ctx: ConsoleContext) -> None:
    seed_delivery(tenant)
    app = PulseApp(ctx, start="metrics")
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press("g")
        await pilot.pause()
        assert not isinstance(app.screen, ChooseDialog)
        assert [n.message for n in app._notifications] == [
            "No releases or goals yet: sync an Aha! integration."
        ]


async def test_the_footer_and_the_palette_list_the_filter(
    planned: Engine, ctx: ConsoleContext
) -> None:
    command = next(c for c in commands_for("metrics") if c.action == "plan")
    assert (command.key, command.show, command.palette) == ("g", True, True)
    app = PulseApp(ctx, start="metrics")
    async with app.run_test(size=(100, 32)) as pilot:
        await ready(pilot)
        shown_keys = {b.binding.key for b in app.screen.active_bindings.values() if b.binding.show}
        assert "g" in shown_keys
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Release/goal")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await ready(pilot)
        assert options(app)[1] == f"Release {PLAN_RELEASE} · Checkout 2.0"


@pytest.mark.parametrize("size", SIZES)
def test_metrics_scoped_to_a_release(
    snap_compare: Any, tenant: Engine, database: Database, tmp_path: Path, size: tuple[int, int]
) -> None:
    seed_delivery(tenant)
    seed_plans(tenant)
    ctx = make_ctx(database, tmp_path)

    async def scoped(pilot: Any) -> None:
        await settle(pilot)
        await pilot.press("g")
        await pilot.pause()
        await pilot.press(*PLAN_RELEASE, "enter")
        await settle(pilot)

    assert snap_compare(app_on(ctx, "metrics"), terminal_size=size, run_before=scoped)
