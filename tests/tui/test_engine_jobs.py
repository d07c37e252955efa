"""EngineJobs: the console's JobsPort over the real engine, on the sandbox demo client."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from textual.widgets import DataTable

from pulse_console.config import Settings
from pulse_console.demo import Demo, start_demo
from pulse_console.engine.service import EmbeddedService, connect
from pulse_console.pipelines.registry import default_registry
from pulse_console.tui.app import PulseApp
from pulse_console.tui.context import ConsoleContext
from pulse_console.tui.engine_jobs import EngineJobs
from pulse_console.tui.ports import ControlRefused, JobEvent, JobsPort, RunFinished
from storage.db import Database
from storage.secrets import DatabaseSecretStore


@pytest.fixture
def demo(database: Database, tmp_path: Path, isolated_home: Path) -> Iterator[Demo]:
    running = start_demo(database, tmp_path / "data", size="tiny")
    try:
        yield running
    finally:
        running.stop()


def engine_jobs(database: Database, tmp_path: Path, demo: Demo) -> EngineJobs:
    settings = Settings(client=demo.client, data_dir=tmp_path / "data")
    service = connect(database, settings, default_registry(), background=True, actor="test")
    assert isinstance(service, EmbeddedService)
    jobs = EngineJobs(service)
    jobs.control("orchestrator_pause")  # nothing starts by itself: the test drives
    return jobs


def status_of(jobs: EngineJobs, name: str) -> str:
    return next(j.status for j in jobs.jobs() if j.name == name)


async def test_engine_jobs_starts_a_job_streams_events_and_refuses_with_a_reason(
    database: Database, tmp_path: Path, demo: Demo
) -> None:
    jobs = engine_jobs(database, tmp_path, demo)
    assert isinstance(jobs, JobsPort)
    seen: list[JobEvent] = []
    reader = threading.Thread(target=lambda: seen.extend(jobs.events()), daemon=True)
    reader.start()
    stop = asyncio.Event()
    host = asyncio.create_task(jobs.host(stop))
    try:
        assert jobs.orchestrator().paused
        with pytest.raises(ControlRefused, match=r"\S"):
            jobs.control("resume", "jira_sync")  # not paused: refused, with a reason
        with pytest.raises(ControlRefused, match="needs a job"):
            jobs.control("start")
        await asyncio.to_thread(jobs.control, "start", "jira_sync")
        with pytest.raises(ControlRefused, match=r"\S"):
            jobs.control("start", "github_sync")  # another job is running (or just finished)
        deadline = time.monotonic() + 60
        while status_of(jobs, "jira_sync") != "FINISHED" and time.monotonic() < deadline:
            await asyncio.sleep(0.25)
        assert status_of(jobs, "jira_sync") == "FINISHED"
        runs = jobs.runs("jira_sync")
        assert runs and runs[0].status == "FINISHED" and runs[0].records > 0
        detail = jobs.run_detail(runs[0].id)
        assert detail is not None and detail.run.id == runs[0].id
        assert jobs.progress() is None
    finally:
        stop.set()
        await host
        jobs.close()
    reader.join(10)
    assert not reader.is_alive()  # close() ends events()
    assert any(isinstance(e, RunFinished) and e.job == "jira_sync" for e in seen)


async def test_console_starts_jira_sync_and_the_jobs_table_follows_it(
    database: Database, tmp_path: Path, demo: Demo
) -> None:
    jobs = engine_jobs(database, tmp_path, demo)
    (tmp_path / "logs").mkdir()
    ctx = ConsoleContext(
        client=demo.client,
        database=database,
        jobs=jobs,
        log_dir=tmp_path / "logs",
        export_dir=tmp_path / "exports",
        secrets=DatabaseSecretStore(database.engine, Fernet.generate_key()),
        actor="ada",
        label="test-db",
    )
    app = PulseApp(ctx)
    try:
        async with app.run_test(size=(160, 40)) as pilot:
            table = app.screen.query_one("#jobs", DataTable)
            deadline = time.monotonic() + 15
            while "jira_sync" not in table.rows and time.monotonic() < deadline:
                await pilot.pause(0.1)
            table.move_cursor(row=table.get_row_index("jira_sync"))
            await pilot.pause()
            before = str(table.get_cell("jira_sync", table.ordered_columns[1].key))
            await pilot.press("s")
            statuses: list[str] = [before]
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                await pilot.pause(0.25)
                cell = str(table.get_cell("jira_sync", table.ordered_columns[1].key))
                if cell != statuses[-1]:
                    statuses.append(cell)
                if cell == "FINISHED" and jobs.runs("jira_sync"):
                    break
            assert statuses[-1] == "FINISHED", statuses
            assert jobs.runs("jira_sync")[0].trigger.lower() == "manual"
            records = str(table.get_cell("jira_sync", table.ordered_columns[5].key))
            assert records not in {"—", "0"}
    finally:
        jobs.close()
