"""The Audit screen (the client's trail, `/` filter, Enter for before/after) and the Clients
screen that switches the console to another client."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from textual.widgets import DataTable, Static

from pulse_console.services import flow_mappings
from pulse_console.services.client_services import ClientServices
from pulse_console.tui.app import PulseApp
from pulse_console.tui.context import ConsoleContext
from pulse_console.tui.dialogs.error import ErrorDialog
from pulse_console.tui.dialogs.text_view import TextViewDialog
from pulse_console.tui.ports import JobsPort
from pulse_console.tui.widgets.common.context_header import ContextHeader
from storage.db import Database
from storage.tenancy import UnknownClient, ensure_client
from tests.tui.conftest import make_ctx
from tests.tui.fakes import NOW, FakeJobs, seeded_jobs
from tests.tui.test_snapshots import SIZES, app_on, settle
from tests.tui.workers import workers_done


def seed_trail(database: Database) -> None:
    """Two clients and a fixed trail of acme's (times and logins pinned for snapshots)."""
    with database.session() as session:
        ensure_client(session, "acme")
        ensure_client(session, "globex", "Globex Corporation")
    step = flow_mappings.add_step(database, "acme", "Review", "in_progress", actor="ada@laptop")
    flow_mappings.map_status(database, "acme", "In Review", step, actor="ada@laptop")
    with database.engine.begin() as conn:
        conn.execute(text("UPDATE clients SET created_at = :ts"), {"ts": NOW - timedelta(days=3)})
    with database.engine.begin() as conn:  # the trail is written at commit (migration 0018)
        conn.execute(text("DELETE FROM audit_log WHERE action = 'clients.update'"))
        conn.execute(
            text(
                "INSERT INTO audit_log (client_id, actor, action, target, details, before, after)"
                " SELECT id, 'bo@ops', 'job.set_active', 'jira', '{\"ok\": true}',"
                ' \'{"jira": "FAILED", "github": "PENDING"}\','
                ' \'{"jira": "PENDING", "github": "FINISHED"}\' FROM clients'
                " WHERE name = 'acme'"
            )
        )
        ids = conn.execute(text("SELECT id FROM audit_log ORDER BY id")).scalars().all()
        for n, audit_id in enumerate(ids):
            conn.execute(
                text("UPDATE audit_log SET ts = :ts, login = :login WHERE id = :id"),
                {
                    "ts": NOW - timedelta(minutes=10 * (len(ids) - n)),
                    "login": "bo" if n % 2 else "ada",
                    "id": audit_id,
                },
            )


async def loaded(pilot: Any) -> None:
    await pilot.pause()
    await workers_done(pilot.app)
    await pilot.pause()


async def test_the_audit_screen_lists_filters_and_opens_a_change(
    database: Database, tmp_path: Path
) -> None:
    seed_trail(database)
    app = PulseApp(make_ctx(database, tmp_path), start="audit")
    async with app.run_test(size=(100, 32)) as pilot:
        await loaded(pilot)
        table = app.screen.query_one(DataTable)
        # acme's creation, two row changes (each carrying its operation), one control
        assert table.row_count == 4
        await pilot.press("slash", *"status_mappings", "enter")
        await loaded(pilot)
        assert table.row_count == 1
        table.focus()
        await pilot.press("enter")
        await loaded(pilot)
        dialog = app.screen
        assert isinstance(dialog, TextViewDialog)
        body = "\n".join(str(s.render()) for s in dialog.query(Static))
        assert "status_mappings.insert" in body and '"status_name": "In Review"' in body


def other_client(database: Database, tmp_path: Path, opened: list[str]) -> Any:
    def open_client(name: str) -> tuple[ClientServices, JobsPort]:
        opened.append(name)
        with database.session() as session:
            from storage.tenancy import require_client

            require_client(session, name)
        services = make_ctx(database, tmp_path, client=name).services
        return services, FakeJobs(seeded_jobs()[:1])

    return open_client


async def test_enter_on_a_client_switches_the_whole_console(
    database: Database, tmp_path: Path
) -> None:
    seed_trail(database)
    opened: list[str] = []
    old_jobs = FakeJobs(seeded_jobs())
    ctx = make_ctx(
        database, tmp_path, old_jobs, open_client=other_client(database, tmp_path, opened)
    )
    app = PulseApp(ctx, start="jobs")
    async with app.run_test(size=(100, 32)) as pilot:
        await loaded(pilot)
        assert app.screen.query_one(DataTable).row_count == len(seeded_jobs())
        app.switch_to("clients")
        await loaded(pilot)
        await pilot.press("down", "enter")  # acme, globex: by name
        await loaded(pilot)
        await loaded(pilot)
        assert opened == ["globex"] and app.ctx.client == "globex"
        assert app.current_mode == "jobs"
        assert app.screen.query_one(ContextHeader).client == "globex"
        assert app.screen.query_one(DataTable).row_count == 1  # the new client's jobs
        assert old_jobs.closed
        app.switch_to("audit")
        await loaded(pilot)
        # globex's trail: its own creation only, never acme's rows
        assert app.screen.query_one(DataTable).row_count == 1


async def test_a_client_removed_meanwhile_is_refused_and_the_console_stays(
    database: Database, tmp_path: Path
) -> None:
    seed_trail(database)
    opened: list[str] = []
    ctx = make_ctx(database, tmp_path, open_client=other_client(database, tmp_path, opened))
    app = PulseApp(ctx, start="clients")
    async with app.run_test(size=(100, 32)) as pilot:
        await loaded(pilot)
        with database.engine.begin() as conn:
            conn.execute(text("DELETE FROM clients WHERE name = 'globex'"))
        await pilot.press("down", "enter")
        await loaded(pilot)
        assert isinstance(app.screen, ErrorDialog)
        assert app.ctx.client == "acme"
    with pytest.raises(UnknownClient):
        other_client(database, tmp_path, [])("globex")


@pytest.mark.parametrize("size", SIZES)
def test_audit_snapshot(
    snap_compare: Any, database: Database, tmp_path: Path, size: tuple[int, int]
) -> None:
    seed_trail(database)
    ctx = make_ctx(database, tmp_path, FakeJobs(seeded_jobs()))
    assert snap_compare(app_on(ctx, "audit"), terminal_size=size, run_before=settle)


@pytest.mark.parametrize("size", SIZES)
def test_clients_snapshot(
    snap_compare: Any, database: Database, tmp_path: Path, size: tuple[int, int]
) -> None:
    seed_trail(database)
    ctx: ConsoleContext = make_ctx(database, tmp_path, FakeJobs(seeded_jobs()))
    assert snap_compare(app_on(ctx, "clients"), terminal_size=size, run_before=settle)
