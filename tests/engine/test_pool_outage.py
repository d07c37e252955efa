"""A pool worker outlives a lost database: when procrastinate's worker ends with a
ConnectorException (here: its registration, as when the network drops while it starts),
the process serves again once the server answers, where it used to end (headless: exit; in
the console: serve nothing, silently)."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import psycopg
from procrastinate.exceptions import ConnectorException
from sqlalchemy import text

from pulse_console.config import Settings
from pulse_console.engine.pool import PoolOptions, PoolProcess
from storage.db import Database
from tests.engine.conftest import add_jobs
from tests.engine.test_pool import registry, start, statuses
from tests.engine.test_processes import wait_for


def runs(database: Database) -> int:
    with database.engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM job_runs")).scalar_one())


def test_a_worker_serves_again_after_its_queue_connection_was_lost(
    database: Database, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path, pool={"tick_seconds": 0.2})
    add_jobs(database, "acme", ["first"])
    opts = PoolOptions.from_settings(settings, "outage", concurrency=1)
    process = PoolProcess(database, settings, registry(), opts, step_after_runs=False)
    manager = process.app.job_manager
    register = manager.register_worker
    lost: list[int] = []

    async def register_once_lost(*args: Any, **kwargs: Any) -> Any:
        if not lost:  # the first registration meets a dropped connection
            lost.append(1)
            cause = psycopg.OperationalError("server closed the connection unexpectedly")
            raise ConnectorException() from cause
        return await register(*args, **kwargs)

    manager.register_worker = register_once_lost  # type: ignore[method-assign]
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    failed: list[BaseException] = []

    def serve() -> None:
        try:
            loop.run_until_complete(process.run(stop))
        except BaseException as exc:  # the thread's end is the finding
            failed.append(exc)

    worker = threading.Thread(target=serve, name="pool-under-test")
    worker.start()
    try:
        start(database, settings, "acme", "first")
        wait_for(
            lambda: runs(database) == 1 and statuses(database)[("acme", "first")] == "FINISHED",
            30,
            "a run served after the lost connection",
        )
        assert lost and worker.is_alive() and not failed
    finally:
        loop.call_soon_threadsafe(stop.set)
        worker.join(30)
    assert not worker.is_alive() and not failed
