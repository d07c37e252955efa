"""The service API: embedded (a pool worker in the process) and attached to the pool."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine

from pulse_console.config import Settings
from pulse_console.engine.controls import Control
from pulse_console.engine.events import Event, JobStatusChanged
from pulse_console.engine.service import connect
from pulse_console.engine.states import JobStatus
from pulse_console.pipelines.registry import PipelineRegistry
from storage.db import Database
from storage.models import Integration
from storage.tenancy import ensure_client
from tests.engine.conftest import add_jobs
from tests.engine.scripted import BatchLoader, Script, registry_of
from tests.engine.test_processes import ROOT, cli, schema_url, wait_for


def test_ensure_jobs_creates_one_job_per_integration_in_chain_order(
    database: Database, tmp_path: Path
) -> None:
    with database.session() as session:
        client_id = ensure_client(session, "acme")
        for name, kind in (("code", "github"), ("tickets", "jira"), ("b-tickets", "jira")):
            session.add(Integration(client_id=client_id, name=name, type=kind, base_url="http://x"))
    service = connect(database, Settings(client="acme", data_dir=tmp_path), PipelineRegistry())
    try:
        assert service.mode == "embedded"
        jobs = [(j.name, j.status) for j in service.status().jobs]
        # by source (Jira before GitHub), then by name; the first one created holds the chain
        assert [name for name, _ in jobs] == ["b-tickets", "tickets", "code"]
        assert sorted(status for _, status in jobs) == ["FINISHED", "FINISHED", "PENDING"]
        assert service.orchestrator.ensure_jobs() == []  # idempotent
    finally:
        service.close()


async def test_embedded_console_drives_jobs_and_an_attached_client_controls_it(
    database: Database, tmp_path: Path
) -> None:
    add_jobs(database, "acme", ["jira_sync", "loader"])
    loader = BatchLoader(batches=4, size=2, hold_after=1)
    registry = registry_of({"jira_sync": Script()})
    registry.register("loader", lambda: loader)
    settings = Settings(client="acme", data_dir=tmp_path, pool={"tick_seconds": 0.2})
    embedded = connect(database, settings, registry, background=True, actor="tui")
    assert embedded.mode == "embedded"
    seen: list[Event] = []
    embedded.subscribe(seen.append).ready.wait(5)
    stop = asyncio.Event()
    host = asyncio.create_task(embedded.serve(stop))
    try:
        # the first tick runs jira_sync, which hands over to loader (held after batch 1)
        await asyncio.to_thread(loader.held.wait, 15)
        assert loader.held.is_set()
        other = connect(database, settings, registry, actor="cli")
        assert other.mode == "attached"  # the console's pool worker serves the client
        assert other.status().leader is not None
        result = await asyncio.to_thread(other.control, Control.PAUSE, "loader")
        assert result.ok, result.message
        await asyncio.to_thread(
            wait_for, lambda: embedded.status().jobs[1].status == "PAUSED", 10, "PAUSED"
        )
        result = await asyncio.to_thread(other.control, Control.RESUME, "loader")
        assert result.ok, result.message
        await asyncio.to_thread(
            wait_for, lambda: embedded.status().jobs[1].status == "FINISHED", 10, "FINISHED"
        )
        changes = [(e.job, e.status) for e in seen if isinstance(e, JobStatusChanged)]
        assert changes[:4] == [
            ("jira_sync", JobStatus.RUNNING),
            ("jira_sync", JobStatus.FINISHED),
            ("loader", JobStatus.PENDING),
            ("loader", JobStatus.RUNNING),
        ]
        assert ("loader", JobStatus.PAUSED) in changes
        other.close()
    finally:
        stop.set()
        await host
        embedded.close()


def test_cli_acts_alone_when_no_worker_drives_the_client(
    pg_url: str, engine: Engine, database: Database, tmp_path: Path
) -> None:
    url = schema_url(pg_url, engine)
    with database.session() as session:
        client_id = ensure_client(session, "acme")
        session.add(
            Integration(client_id=client_id, name="tickets", type="jira", base_url="http://x")
        )
    # every integration has its job (named after it) as soon as the jobs are listed
    listing = cli(url, tmp_path, "jobs", "--json")
    assert listing.returncode == 0 and [job["name"] for job in json.loads(listing.stdout)] == [
        "tickets"
    ]
    with database.session() as session:
        session.add(Integration(client_id=client_id, name="more", type="jira", base_url="u"))
    listing = cli(url, tmp_path, "jobs", "--json")
    assert [job["name"] for job in json.loads(listing.stdout)] == ["more", "tickets"]
    # a stop with nothing running is refused
    stop = cli(url, tmp_path, "jobs", "stop", "tickets")
    assert stop.returncode == 2 and "not running" in stop.stderr
    assert cli(url, tmp_path, "jobs", "start").returncode == 2  # no JOB
    pause = cli(url, tmp_path, "jobs", "pause", "tickets", "--json")
    assert pause.returncode == 0, pause.stderr
    assert '"mode": "embedded"' in pause.stdout
    assert cli(url, tmp_path, "jobs", "set-active", "tickets").returncode == 2
    setting = cli(url, tmp_path, "orchestrator", "set", "retry.interval_minutes", "5")
    assert setting.returncode == 0, setting.stderr
    bad = cli(url, tmp_path, "orchestrator", "set", "retry.interval_minutes", "0")
    assert bad.returncode == 2 and "out of range" in bad.stderr
    status = cli(url, tmp_path, "orchestrator")
    assert "retry.interval_minutes = 5" in status.stdout
    assert "tickets" in status.stdout and "PAUSED" in status.stdout


@pytest.mark.parametrize("command", ["worker", "workers", "jobs", "orchestrator"])
def test_every_engine_command_has_help(command: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pulse_console.cli", command, "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0 and "usage: pulse-console" in done.stdout
