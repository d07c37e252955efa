"""The flow screen on the real database: issue types are edited and deleted like status
mappings, the impact is shown first, and every delete names what it deletes and reports
what happened."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import insert, select
from textual.pilot import Pilot
from textual.widgets import DataTable, Label, Static, TabbedContent

from pulse_console.services import flow_mappings as flow
from pulse_console.tui.app import PulseApp
from pulse_console.tui.context import ConsoleContext
from pulse_console.tui.dialogs.choose import ChooseDialog
from pulse_console.tui.dialogs.confirm import ConfirmDialog
from pulse_console.tui.widgets.metrics.figures import hours
from storage.db import Database
from storage.models import IssueTypeMapping, StatusMapping, WorkItem
from storage.tenancy import ensure_client
from tests.tui.conftest import make_ctx
from tests.tui.workers import workers_done


def add_items(database: Database, items: list[tuple[str | None, str]]) -> None:
    """Work items of client acme, as (type, status) pairs."""
    with database.session() as session:
        cid = ensure_client(session, "acme")
        session.execute(
            insert(WorkItem),
            [
                {
                    "client_id": cid,
                    "integration_id": 1,
                    "source": "jira",
                    "external_id": str(i),
                    "type": kind,
                    "status": status,
                }
                for i, (kind, status) in enumerate(items)
            ],
        )


def seed(database: Database) -> dict[str, int]:
    add_items(database, [("Incident", "Done"), ("Story", "In Review")] * 3)
    done = flow.add_step(database, "acme", "Done", "done", actor="ada")
    review = flow.add_step(database, "acme", "In Review", "in_progress", actor="ada")
    return {
        "done": done,
        "review": review,
        "done_mapping": flow.map_status(database, "acme", "Done", done, actor="ada"),
        "incident": flow.map_issue_type(database, "acme", "Incident", "incident", actor="ada"),
    }


async def open_tab(app: PulseApp, pilot: Pilot[None], tab: str) -> None:
    app.switch_to("flow")
    await settle(app, pilot)
    app.screen.query_one(TabbedContent).active = tab
    await pilot.pause()
    app.screen.query_one(f"#t-{tab}", DataTable).focus()
    await pilot.pause()


async def settle(app: PulseApp, pilot: Pilot[None]) -> None:
    for _ in range(3):
        await workers_done(app)
        await pilot.pause()


def title(app: PulseApp) -> str:
    return str(app.screen.query_one(".title", Label).content)


async def test_enter_on_an_issue_type_mapping_changes_its_kind_after_showing_the_impact(
    database: Database, tmp_path: Path
) -> None:
    ids = seed(database)
    ctx: ConsoleContext = make_ctx(database, tmp_path)
    app = PulseApp(ctx)
    async with app.run_test(size=(100, 32)) as pilot:
        await open_tab(app, pilot, "types")
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, ChooseDialog)
        assert "Incident → incident" in title(app) and "3 work item(s)" in title(app)
        assert "change failure rate" in title(app)
        app.screen.dismiss("defect")
        await settle(app, pilot)
    with database.session() as session:
        assert session.get(IssueTypeMapping, ids["incident"]).kind == "defect"  # type: ignore[union-attr]


async def test_an_issue_type_mapping_can_be_deleted_and_the_confirmation_names_it(
    database: Database, tmp_path: Path
) -> None:
    seed(database)
    app = PulseApp(make_ctx(database, tmp_path))
    async with app.run_test(size=(100, 32)) as pilot:
        await open_tab(app, pilot, "types")
        await pilot.press("d")
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmDialog)
        assert "“Incident → incident”" in title(app)
        body = " ".join(str(w.render()) for w in app.screen.query(Static))
        assert "3 work item(s)" in body
        await pilot.press("y")
        await settle(app, pilot)
    with database.session() as session:
        assert session.execute(select(IssueTypeMapping)).first() is None


async def test_a_status_mapping_can_be_pointed_at_another_step(
    database: Database, tmp_path: Path
) -> None:
    ids = seed(database)
    app = PulseApp(make_ctx(database, tmp_path))
    async with app.run_test(size=(100, 32)) as pilot:
        await open_tab(app, pilot, "statuses")
        await pilot.press("e")
        await settle(app, pilot)
        assert isinstance(app.screen, ChooseDialog)
        assert "Done (any type) → Done" in title(app) and "3 work item(s)" in title(app)
        app.screen.dismiss(str(ids["review"]))
        await settle(app, pilot)
    with database.session() as session:
        row = session.get(StatusMapping, ids["done_mapping"])
        assert row is not None and row.flow_step_id == ids["review"]


async def test_deleting_a_step_and_dropping_its_mappings_says_they_were_dropped(
    database: Database, tmp_path: Path
) -> None:
    seed(database)
    app = PulseApp(make_ctx(database, tmp_path))
    notes: list[str] = []
    async with app.run_test(size=(100, 32)) as pilot:
        app.notify = lambda message, **_: notes.append(str(message))  # type: ignore[method-assign]
        await open_tab(app, pilot, "steps")
        await pilot.press("d")  # the cursor is on "Done", the first step
        await settle(app, pilot)
        assert isinstance(app.screen, ChooseDialog)
        app.screen.dismiss("-1")
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmDialog) and "“Done”" in title(app)
        await pilot.press("y")
        await settle(app, pilot)
    assert "Step deleted; 1 mapping(s) dropped" in notes


@pytest.mark.parametrize("size", [(100, 32), (80, 24)])
async def test_flow_keeps_its_header_and_status_line_and_arrows_move_without_tab(
    database: Database, tmp_path: Path, size: tuple[int, int]
) -> None:
    # More rows than fit: the table scrolls, not the screen.
    add_items(database, [(None, f"Status {i:02d}") for i in range(40)])
    flow.add_step(database, "acme", "Done", "done", actor="ada")
    app = PulseApp(make_ctx(database, tmp_path))
    async with app.run_test(size=size) as pilot:
        app.switch_to("flow")
        await settle(app, pilot)
        screen = app.screen
        assert screen.query_one("#context-header").region.y == 0
        status = screen.query_one("#status").region
        assert status.height == 1 and status.bottom <= size[1] - 1  # above the footer
        table = screen.query_one("#t-unmapped", DataTable)
        assert not isinstance(app.focused, DataTable)  # the tab bar has focus on arrival
        await pilot.press("down", "down")
        assert table.cursor_row == 2
        await pilot.press("up")
        assert table.cursor_row == 1
        await pilot.press("enter")  # Enter maps the selected unmapped status
        await settle(app, pilot)
        assert isinstance(app.screen, ChooseDialog) and "“Status 01”" in title(app)


def test_long_durations_read_as_whole_days_never_in_e_notation() -> None:
    assert hours(352_083 * 24) == "352,083 d"
    assert hours(90) == "3.8 d"
    assert hours(0.5) == "30 min"
