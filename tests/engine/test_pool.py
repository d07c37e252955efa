"""A pool worker in this process: which clients and sources it serves, per-source caps, and
the `worker`/`workers` command lines."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest
from sqlalchemy import text

from pulse_console import cli
from pulse_console.commands import database as opener
from pulse_console.config import Settings
from pulse_console.engine.controls import Control
from pulse_console.engine.orchestrator import Orchestrator
from pulse_console.engine.pool import PoolOptions, PoolProcess
from pulse_console.engine.queue import defer_run
from pulse_console.pipelines.registry import PipelineRegistry
from storage.db import Database
from tests.engine.conftest import add_jobs
from tests.engine.scripted import BatchLoader


@pytest.fixture
def wired(database: Database, monkeypatch: pytest.MonkeyPatch, isolated_home: Path) -> list[str]:
    """The CLI on this test's database (its arguments)."""
    monkeypatch.setattr(opener, "open_configured", lambda settings, upgrade_embedded=True: database)
    return ["--data-dir", str(isolated_home / "data")]


def registry() -> PipelineRegistry:
    found = PipelineRegistry(order=())
    for kind in ("first", "second"):
        found.register(kind, lambda: BatchLoader(batches=2, size=3, batch_seconds=0.0))
    return found


def start(database: Database, settings: Settings, client: str, job: str) -> None:
    """Defer a run of `job` (as any process's control would), for the pool to execute."""
    orch = Orchestrator(
        database, settings, registry(), client=client, dispatch=defer_run, log_dir=False
    )
    assert orch.control(Control.START, job).ok


def statuses(database: Database) -> dict[tuple[str, str], str]:
    with database.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT c.name, j.name, j.status FROM jobs j JOIN clients c ON c.id = j.client_id")
        ).all()
    return {(c, j): s for c, j, s in rows}


def drain(database: Database, settings: Settings, **options: object) -> None:
    """Run a worker until its queues are empty (as the CLI acting alone does)."""
    opts = PoolOptions.from_settings(settings, "drain", **options)
    process = PoolProcess(database, settings, registry(), opts, step_after_runs=False)
    asyncio.run(process.run(asyncio.Event(), wait=False))


def test_a_worker_serves_only_its_clients_and_sources(database: Database, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    for client in ("acme", "beta"):
        add_jobs(database, client, ["first", "second"])
    start(database, settings, "acme", "first")
    start(database, settings, "beta", "first")
    drain(database, settings, clients=("acme",))
    assert statuses(database)[("acme", "first")] == "FINISHED"
    assert statuses(database)[("beta", "first")] == "RUNNING"  # queued: not this worker's
    drain(database, settings, sources=("second",))
    assert statuses(database)[("beta", "first")] == "RUNNING"  # a `first` run: not served
    drain(database, settings, sources=("first",))
    assert statuses(database)[("beta", "first")] == "FINISHED"


def test_a_source_limit_holds_across_the_pool(database: Database, tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path, pool={"tick_seconds": 0.2, "source_limits": {"first": 1}}
    )
    clients = ("acme", "beta", "gamma")
    for client in clients:
        add_jobs(database, client, ["first"])
        start(database, settings, client, "first")
    opts = PoolOptions.from_settings(settings, "capped", concurrency=3)
    process = PoolProcess(database, settings, registry(), opts, step_after_runs=False)
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    worker = threading.Thread(target=loop.run_until_complete, args=(process.run(stop),))
    worker.start()
    try:
        for _ in range(300):
            if set(statuses(database).values()) == {"FINISHED"}:
                break
            threading.Event().wait(0.1)
    finally:
        loop.call_soon_threadsafe(stop.set)
        worker.join(30)
    assert set(statuses(database).values()) == {"FINISHED"}
    with database.engine.connect() as conn:
        spans = conn.execute(
            text("SELECT started_at, finished_at FROM job_runs ORDER BY started_at")
        ).all()
        overlaps = conn.execute(
            text(
                "SELECT count(*) FROM job_runs a JOIN job_runs b ON a.id < b.id"
                " AND a.started_at < b.finished_at AND b.started_at < a.finished_at"
            )
        ).scalar_one()
    assert len(spans) == 3 and overlaps == 0  # three workers' worth of slots, one at a time


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["worker", "--queues", "nope"], "no source nope"),
        (["worker", "--clients", "typo"], "there is no client 'typo'"),
    ],
)
def test_bad_worker_options_are_one_line(
    argv: list[str],
    says: str,
    database: Database,
    capsys: pytest.CaptureFixture[str],
    wired: list[str],
) -> None:
    assert cli.main([*argv, *wired]) == 2
    err = capsys.readouterr().err.strip()
    assert says in err and len(err.splitlines()) == 1, err


def test_a_concurrency_out_of_range_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.main(["worker", "--concurrency", "0"])
    assert exit_.value.code == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.endswith("argument --concurrency: must be between 1 and 256, not 0")


def test_workers_lists_the_pool(
    database: Database, capsys: pytest.CaptureFixture[str], wired: list[str]
) -> None:
    from storage.models import PoolWorker

    add_jobs(database, "acme", ["first"])
    with database.session() as session:
        session.add(PoolWorker(name="w9", host="box", pid=7, concurrency=4, clients=None))
    assert cli.main(["workers", *wired]) == 0
    out = capsys.readouterr().out
    assert out.startswith("w9") and "box" in out and "x4" in out and "idle" in out
