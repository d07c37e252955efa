"""Screens and dialogs at 100x32 and 80x24 with seeded data and a fixed clock."""

from __future__ import annotations

import os
import threading
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, insert

from connectors.base import ConnectionCheck
from pulse_console.engine.states import JobStatus
from pulse_console.services import flow_mappings as flow
from pulse_console.services import health, integrations
from pulse_console.services.integrations import IntegrationDraft
from pulse_console.tui.context import ConsoleContext
from pulse_console.tui.ports import RateBudget
from storage.db import Database
from storage.models import Job, JobRun, LogEntry, WorkItem
from storage.tenancy import ensure_client
from tests.tui.conftest import SnapApp, make_ctx
from tests.tui.fakes import NOW, FakeJobs, running_progress, seeded_jobs
from tests.tui.workers import workers_done

SIZES = [(100, 32), (80, 24)]


async def settle(pilot: Any) -> None:
    """Wait until workers are done and the screen stops changing.

    On a loaded machine a worker's result can land after a fixed number of pauses, so the
    shot is taken only once three consecutive renders are identical and the screen is no
    longer waiting for its first data.
    """
    previous = None
    stable = 0
    for _ in range(100):
        await pilot.pause()
        await workers_done(pilot.app)
        await pilot.wait_for_scheduled_animations()
        await pilot.pause(0.05)
        current = pilot.app.export_screenshot()
        # A screen still waiting for its first load is not settled, however still it looks.
        waiting = getattr(pilot.app.screen, "waiting_for_data", False)
        stable = stable + 1 if current == previous and not waiting else 0
        if stable >= 2:
            return
        previous = current


def pressing(*keys: str) -> Callable[[Any], Awaitable[None]]:
    """A `run_before`: settle, press `keys`, settle again."""

    async def run(pilot: Any) -> None:
        await settle(pilot)
        await pilot.press(*keys)
        await settle(pilot)

    return run


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
                    "job": "sandbox-jira" if i % 3 else "sandbox-github",
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
        await pilot.press("up", "up")  # the filter stays applied and shown in its bar
        await settle(pilot)

    assert snap_compare(app_on(ctx, "logs"), terminal_size=(100, 32), run_before=filtered)


def test_logs_empty(snap_compare: Any, database: Database, tmp_path: Path) -> None:
    ctx = make_ctx(database, tmp_path)
    assert snap_compare(app_on(ctx, "logs"), terminal_size=(80, 24), run_before=settle)


def test_log_record_detail(snap_compare: Any, database: Database, tmp_path: Path) -> None:
    seed_logs(database, 5)
    ctx = make_ctx(database, tmp_path)

    assert snap_compare(app_on(ctx, "logs"), terminal_size=(100, 32), run_before=pressing("enter"))


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

    assert snap_compare(
        app_on(ctx, "log_files"), terminal_size=(100, 32), run_before=pressing("enter")
    )


@pytest.mark.parametrize("size", SIZES)
def test_log_files_list(
    snap_compare: Any,
    database: Database,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    size: tuple[int, int],
) -> None:
    monkeypatch.chdir(tmp_path)  # a relative log dir: the status line names no temp path
    ctx = make_ctx(database, tmp_path, log_dir=Path("logs"))
    for name, kib, hours_old in [
        ("pulse.log", 512, 0.2),
        ("pulse.log.1", 10240, 26),
        ("pulse.log.2", 10240, 50),
        ("sandbox-jira-run-41.log", 3, 3),
    ]:
        path = tmp_path / "logs" / name
        path.write_bytes(b"x" * kib * 1024)
        stamp = (NOW - timedelta(hours=hours_old)).timestamp()
        os.utime(path, (stamp, stamp))
    assert snap_compare(app_on(ctx, "log_files"), terminal_size=size, run_before=settle)


def test_integrations_and_form(snap_compare: Any, database: Database, tmp_path: Path) -> None:
    ctx = make_ctx(database, tmp_path)
    assert ctx.services.secrets is not None
    integrations.save(
        database,
        "acme",
        IntegrationDraft(
            "jira-main", "jira", "https://acme.atlassian.net", "ops@acme.test", "t0k3n"
        ),
        ctx.services.secrets,
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


# --- Jobs: API budget, busy, confirmations -----------------------------------------------


def github_running() -> FakeJobs:
    jobs = [
        replace(
            j,
            status=JobStatus.RUNNING if j.name == "sandbox-github" else JobStatus.FINISHED,
            status_reason=None,
        )
        for j in seeded_jobs()
    ]
    progress = running_progress(
        job="sandbox-github",
        phase="acme/api (2/3): pull requests",
        total=320,
        budget=RateBudget(4210, 5000, NOW + timedelta(minutes=25)),
    )
    progress = replace(progress, done=118)
    return FakeJobs(jobs, progress)


@pytest.mark.parametrize("size", SIZES)
def test_jobs_github_sync_with_its_graphql_budget(
    snap_compare: Any, database: Database, tmp_path: Path, size: tuple[int, int]
) -> None:
    ctx = make_ctx(database, tmp_path, github_running())
    assert snap_compare(app_on(ctx, "jobs"), terminal_size=size, run_before=settle)


def test_jobs_loading(snap_compare: Any, database: Database, tmp_path: Path) -> None:
    gate = threading.Event()
    ctx = make_ctx(database, tmp_path, FakeJobs(seeded_jobs(), gate=gate))

    async def busy(pilot: Any) -> None:
        for _ in range(5):
            await pilot.pause(0.05)

    try:
        assert snap_compare(app_on(ctx, "jobs"), terminal_size=(80, 24), run_before=busy)
    finally:
        gate.set()


def test_jobs_set_active_confirmation(
    snap_compare: Any, database: Database, tmp_path: Path
) -> None:
    jobs = [replace(j, status=JobStatus.FINISHED) for j in seeded_jobs()]
    ctx = make_ctx(database, tmp_path, FakeJobs(jobs))

    assert snap_compare(
        app_on(ctx, "jobs"), terminal_size=(100, 32), run_before=pressing("down", "a")
    )


# --- Run history ----------------------------------------------------------------------------


def test_run_history_narrow(snap_compare: Any, database: Database, tmp_path: Path) -> None:
    ctx = make_ctx(database, tmp_path, FakeJobs(seeded_jobs()))
    assert snap_compare(app_on(ctx, "runs"), terminal_size=(80, 24), run_before=settle)


def test_run_detail_with_budget(snap_compare: Any, database: Database, tmp_path: Path) -> None:
    ctx = make_ctx(database, tmp_path, FakeJobs(seeded_jobs()))

    assert snap_compare(
        app_on(ctx, "runs"), terminal_size=(100, 32), run_before=pressing("down", "enter")
    )


# --- Health ---------------------------------------------------------------------------------


def fixed_machine_checks(monkeypatch: pytest.MonkeyPatch, database_too: bool = True) -> None:
    """Latency, database size and free disk change from run to run: fix those two rows."""
    if database_too:
        monkeypatch.setattr(
            health,
            "database_check",
            lambda database: health.HealthCheck(
                "Database", "OK", "test-db · PostgreSQL 16.4 · 2 ms · 9.1 MB"
            ),
        )
    monkeypatch.setattr(
        health,
        "disk_check",
        lambda log_dir: health.HealthCheck("Log disk", "OK", "logs · 41.2 GB free of 96.0 GB"),
    )


def seed_integrations_with_a_github_run(database: Database, secrets: Any) -> None:
    """Jira tested OK, GitHub tested FAIL, and a finished sandbox-github run that left a budget."""
    jira = integrations.save(
        database,
        "acme",
        IntegrationDraft("jira-main", "jira", "https://acme.atlassian.net", "ops@acme.test", "t"),
        secrets,
        actor="ada",
    )
    github = integrations.save(
        database,
        "acme",
        IntegrationDraft("github-acme", "github", "https://api.github.com", "", "t"),
        secrets,
        actor="ada",
    )
    at = NOW - timedelta(minutes=20)
    integrations.record_test(database, jira, ConnectionCheck(ok=True, message="ops@acme.test"), at)
    integrations.record_test(
        database,
        github,
        ConnectionCheck(ok=False, message="401 Unauthorized: the token was refused"),
        at,
    )
    with database.session() as session:
        cid = ensure_client(session, "acme")
        job_id = session.execute(
            insert(Job)
            .values(client_id=cid, name="sandbox-github", integration_id=github)
            .returning(Job.id)
        ).scalar_one()
        session.execute(
            insert(JobRun).values(
                id=40,
                client_id=cid,
                job_id=job_id,
                trigger="schedule",
                status="FINISHED",
                started_at=NOW - timedelta(hours=1),
                finished_at=NOW - timedelta(minutes=58),
                stats={
                    "points_remaining": 310,
                    "points_limit": 5000,
                    "points_reset_at": (NOW + timedelta(minutes=12)).isoformat(),
                },
            )
        )


def test_health_populated(
    snap_compare: Any, database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fixed_machine_checks(monkeypatch)
    ctx = make_ctx(database, tmp_path, FakeJobs(seeded_jobs()))
    seed_integrations_with_a_github_run(database, ctx.services.secrets)
    assert snap_compare(app_on(ctx, "health"), terminal_size=(100, 32), run_before=settle)


def unreachable_ctx(tmp_path: Path) -> ConsoleContext:
    # Nothing listens on port 9 of this machine: every query fails with "connection refused".
    dead = Database(
        engine=create_engine("postgresql+psycopg://postgres@127.0.0.1:9/pulse"), embedded=False
    )
    return make_ctx(dead, tmp_path, FakeJobs(seeded_jobs()))


def test_health_database_unreachable_narrow(
    snap_compare: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A lost database is a banner, not a dialog: the Health row says what failed.
    fixed_machine_checks(monkeypatch, database_too=False)
    ctx = unreachable_ctx(tmp_path)
    assert snap_compare(app_on(ctx, "health"), terminal_size=(80, 24), run_before=settle)


class EngineRefusal(Exception):
    """An operator-facing error as the engine raises them: a title and a message."""

    title = "The engine refused"
    message = "Client acme is held by worker ops-2 (pid 4121); attach to it or stop it first."


class RefusingJobs(FakeJobs):
    def jobs(self) -> list[Any]:
        raise EngineRefusal()


def test_error_dialog(snap_compare: Any, database: Database, tmp_path: Path) -> None:
    ctx = make_ctx(database, tmp_path, RefusingJobs(seeded_jobs()))
    assert snap_compare(app_on(ctx, "jobs"), terminal_size=(80, 24), run_before=settle)


def test_health_database_unreachable(
    snap_compare: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fixed_machine_checks(monkeypatch, database_too=False)
    ctx = unreachable_ctx(tmp_path)

    assert snap_compare(
        app_on(ctx, "health"), terminal_size=(100, 32), run_before=pressing("escape")
    )


# --- Integrations, flow, settings at 80 columns ------------------------------


def test_integrations_with_a_failed_test(
    snap_compare: Any, database: Database, tmp_path: Path
) -> None:
    ctx = make_ctx(database, tmp_path)
    seed_integrations_with_a_github_run(database, ctx.services.secrets)

    assert snap_compare(
        app_on(ctx, "integrations"), terminal_size=(80, 24), run_before=pressing("down")
    )


def test_settings_narrow(snap_compare: Any, database: Database, tmp_path: Path) -> None:
    ctx = make_ctx(database, tmp_path)
    assert snap_compare(app_on(ctx, "settings"), terminal_size=(80, 24), run_before=settle)


def test_flow_narrow(snap_compare: Any, database: Database, tmp_path: Path) -> None:
    flow.add_step(database, "acme", "In Progress", "in_progress", actor="ada")
    ctx = make_ctx(database, tmp_path)
    assert snap_compare(app_on(ctx, "flow"), terminal_size=(80, 24), run_before=settle)
