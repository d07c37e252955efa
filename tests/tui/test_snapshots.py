"""Screens and dialogs at 100x32 and 80x24 with seeded data and a fixed clock."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert

from pulse_console.services import flow_mappings as flow
from pulse_console.services import integrations
from pulse_console.services.integrations import IntegrationDraft
from pulse_console.tui.context import ConsoleContext
from storage.db import Database
from storage.models import LogEntry, WorkItem
from storage.tenancy import ensure_client
from tests.tui.conftest import SnapApp, make_ctx
from tests.tui.fakes import NOW, FakeJobs, running_progress, seeded_jobs

SIZES = [(100, 32), (80, 24)]


async def settle(pilot: Any) -> None:
    """Wait until workers are done and the screen stops changing.

    On a loaded machine a worker's result can land after a fixed number of pauses, so the
    shot is taken only once three consecutive renders are identical.
    """
    previous = None
    stable = 0
    for _ in range(100):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
        await pilot.wait_for_scheduled_animations()
        await pilot.pause(0.05)
        current = pilot.app.export_screenshot()
        stable = stable + 1 if current == previous else 0
        if stable >= 2:
            return
        previous = current


def app_on(ctx: ConsoleContext, start: str) -> SnapApp:
    return SnapApp(ctx, start=start)


def seed_logs(database: Database, count: int = 60) -> None:
    with database.session() as session:
        cid = ensure_client(session, "acme")
        session.execute(
            insert(LogEntry),
            [
                {
                    "client_id": cid,
                    "ts": NOW - timedelta(minutes=count - i),
                    "level": ("INFO", "INFO", "WARNING", "ERROR", "DEBUG")[i % 5],
                    "job": "jira_sync" if i % 3 else "github_sync",
                    "run_id": 40 + i // 20,
                    "logger": "pulse.pipelines",
                    "message": f"page {i} loaded: 100 issues"
                    + (" x" * 200 if i == count - 2 else ""),
                    "extra": {"page": i},
                }
                for i in range(count)
            ],
        )


@pytest.mark.parametrize("size", SIZES)
def test_jobs_running_with_progress(
    snap_compare: Any, database: Database, tmp_path: Path, size: tuple[int, int]
) -> None:
    ctx = make_ctx(database, tmp_path, FakeJobs(seeded_jobs(), running_progress()))
    assert snap_compare(app_on(ctx, "jobs"), terminal_size=size, run_before=settle)


def test_jobs_rate_limited_unknown_total(
    snap_compare: Any, database: Database, tmp_path: Path
) -> None:
    progress = running_progress(rate_limited=True, total=None)
    ctx = make_ctx(database, tmp_path, FakeJobs(seeded_jobs(), progress))
    assert snap_compare(app_on(ctx, "jobs"), terminal_size=(100, 32), run_before=settle)


def test_jobs_empty(snap_compare: Any, database: Database, tmp_path: Path) -> None:
    ctx = make_ctx(database, tmp_path, FakeJobs([]))
    assert snap_compare(app_on(ctx, "jobs"), terminal_size=(80, 24), run_before=settle)


def test_jobs_stop_confirmation(snap_compare: Any, database: Database, tmp_path: Path) -> None:
    ctx = make_ctx(database, tmp_path, FakeJobs(seeded_jobs(), running_progress()))

    async def press_stop(pilot: Any) -> None:
        await settle(pilot)
        await pilot.press("x")
        await pilot.pause()

    assert snap_compare(app_on(ctx, "jobs"), terminal_size=(80, 24), run_before=press_stop)


def test_run_history(snap_compare: Any, database: Database, tmp_path: Path) -> None:
    ctx = make_ctx(database, tmp_path, FakeJobs(seeded_jobs()))
    assert snap_compare(app_on(ctx, "runs"), terminal_size=(100, 32), run_before=settle)


@pytest.mark.parametrize("size", SIZES)
def test_logs_populated(
    snap_compare: Any, database: Database, tmp_path: Path, size: tuple[int, int]
) -> None:
    seed_logs(database)
    ctx = make_ctx(database, tmp_path)
    assert snap_compare(app_on(ctx, "logs"), terminal_size=size, run_before=settle)


def test_logs_filtered_to_errors(snap_compare: Any, database: Database, tmp_path: Path) -> None:
    seed_logs(database)
    ctx = make_ctx(database, tmp_path)

    async def filtered(pilot: Any) -> None:
        await settle(pilot)
        await pilot.press("slash", *"level:ERROR", "enter")
        await settle(pilot)
        await pilot.press("up", "up")
        await pilot.press("escape")  # hides the filter bar; the filter stays applied
        await settle(pilot)

    assert snap_compare(app_on(ctx, "logs"), terminal_size=(100, 32), run_before=filtered)


def test_logs_empty(snap_compare: Any, database: Database, tmp_path: Path) -> None:
    ctx = make_ctx(database, tmp_path)
    assert snap_compare(app_on(ctx, "logs"), terminal_size=(80, 24), run_before=settle)


def test_log_record_detail(snap_compare: Any, database: Database, tmp_path: Path) -> None:
    seed_logs(database, 5)
    ctx = make_ctx(database, tmp_path)

    async def detail(pilot: Any) -> None:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)

    assert snap_compare(app_on(ctx, "logs"), terminal_size=(100, 32), run_before=detail)


def test_help_dialog(snap_compare: Any, database: Database, tmp_path: Path) -> None:
    ctx = make_ctx(database, tmp_path)

    async def help_open(pilot: Any) -> None:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()

    assert snap_compare(app_on(ctx, "logs"), terminal_size=(100, 32), run_before=help_open)


def test_jump_dialog(snap_compare: Any, database: Database, tmp_path: Path) -> None:
    ctx = make_ctx(database, tmp_path, FakeJobs(seeded_jobs()))

    async def jump(pilot: Any) -> None:
        await settle(pilot)
        await pilot.press("colon", *"fl")
        await pilot.pause()

    assert snap_compare(app_on(ctx, "jobs"), terminal_size=(80, 24), run_before=jump)


def test_log_file_view_shows_the_tail(
    snap_compare: Any, database: Database, tmp_path: Path
) -> None:
    ctx = make_ctx(database, tmp_path)
    lines = [
        f'{{"ts": "2026-01-15T09:{i % 60:02d}:00Z", "level": "INFO", "n": {i}}}'
        for i in range(5000)
    ]
    (ctx.log_dir / "pulse.log").write_text("\n".join(lines) + "\n")

    async def open_file(pilot: Any) -> None:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)

    assert snap_compare(app_on(ctx, "log_files"), terminal_size=(100, 32), run_before=open_file)


def test_integrations_and_form(snap_compare: Any, database: Database, tmp_path: Path) -> None:
    ctx = make_ctx(database, tmp_path)
    assert ctx.secrets is not None
    integrations.save(
        database,
        "acme",
        IntegrationDraft(
            "jira-main", "jira", "https://acme.atlassian.net", "ops@acme.test", "t0k3n"
        ),
        ctx.secrets,
        actor="ada",
    )

    async def edit(pilot: Any) -> None:
        await settle(pilot)
        await pilot.press("enter")
        await pilot.pause()

    assert snap_compare(app_on(ctx, "integrations"), terminal_size=(100, 32), run_before=edit)


def test_integrations_empty(snap_compare: Any, database: Database, tmp_path: Path) -> None:
    ctx = make_ctx(database, tmp_path)
    assert snap_compare(app_on(ctx, "integrations"), terminal_size=(80, 24), run_before=settle)


def test_flow_mappings_with_unmapped(snap_compare: Any, database: Database, tmp_path: Path) -> None:
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
                    "status": ("In Review", "Done", "QA")[i % 3],
                }
                for i in range(30)
            ],
        )
    done = flow.add_step(database, "acme", "Done", "done", actor="ada")
    flow.add_step(database, "acme", "In Progress", "in_progress", actor="ada")
    flow.map_status(database, "acme", "done", done, actor="ada")
    ctx = make_ctx(database, tmp_path)
    assert snap_compare(app_on(ctx, "flow"), terminal_size=(100, 32), run_before=settle)


def test_settings(snap_compare: Any, database: Database, tmp_path: Path) -> None:
    ctx = make_ctx(database, tmp_path)
    assert snap_compare(app_on(ctx, "settings"), terminal_size=(100, 32), run_before=settle)


def test_jobs_in_monochrome(
    snap_compare: Any, database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    ctx = make_ctx(database, tmp_path, FakeJobs(seeded_jobs(), running_progress()))
    assert snap_compare(app_on(ctx, "jobs"), terminal_size=(80, 24), run_before=settle)
