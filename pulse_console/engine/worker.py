"""`pulse-console worker`: the orchestrator of one client, headless, logging JSON lines.

Start-up: wait as a standby until the client's advisory lock is free (polling every
`poll_seconds`), then take it, resume any job a previous holder left RUNNING, and drive the
client (host.py) until SIGTERM/SIGINT. On SIGTERM the running job stops at its next batch
boundary, leaving a committed checkpoint and the job PENDING "interrupted"; the lock is
released and the process exits 0 — a standby takes over within about a second.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import sys
import time
from collections.abc import Callable

from pulse_console.config import Settings
from pulse_console.engine.host import OrchestratorHost
from pulse_console.engine.leadership import Leadership
from pulse_console.engine.logformat import JsonLinesFormatter
from pulse_console.engine.orchestrator import Orchestrator
from pulse_console.engine.runner import ThreadRunner
from pulse_console.pipelines.registry import PipelineRegistry
from storage.db import Database
from storage.tenancy import require_client

_log = logging.getLogger("pulse.worker")


def configure_json_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonLinesFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("apscheduler", "sqlalchemy", "httpx", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def default_worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def run_worker(
    database: Database,
    settings: Settings,
    registry: PipelineRegistry,
    *,
    name: str | None = None,
    poll_seconds: float = 1.0,
    secret: Callable[[str], str | None] | None = None,
    heartbeat_seconds: float = 5.0,
) -> int:
    name = name or default_worker_name()
    return asyncio.run(
        _main(database, settings, registry, name, poll_seconds, secret, heartbeat_seconds)
    )


async def _main(
    database: Database,
    settings: Settings,
    registry: PipelineRegistry,
    name: str,
    poll_seconds: float,
    secret: Callable[[str], str | None] | None,
    heartbeat_seconds: float,
) -> int:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    with database.session() as session:
        client_id = require_client(session, settings.client)
    leadership = Leadership(database, client_id, name)
    waited_from = time.monotonic()
    announced = False
    while not leadership.try_acquire():
        if not announced:
            _log.info(
                "standby: another orchestrator drives this client",
                extra={"event": "standby", "worker": name, "client": settings.client},
            )
            announced = True
        try:
            await asyncio.wait_for(stop.wait(), poll_seconds)
        except TimeoutError:
            continue
        leadership.release()
        _log.info("stopped while on standby", extra={"event": "stopped", "worker": name})
        return 0
    waited = time.monotonic() - waited_from
    _log.info(
        "leader: driving this client",
        extra={
            "event": "leader",
            "worker": name,
            "client": settings.client,
            "waited_seconds": round(waited, 3),
        },
    )
    try:
        orchestrator = Orchestrator(
            database,
            settings,
            registry,
            runner=ThreadRunner(),
            worker_name=name,
            secret=secret,
            fence=leadership.fence,
        )
        orchestrator.ensure_jobs()
        resumed = orchestrator.recover()
        if resumed:
            _log.info("resuming interrupted jobs", extra={"event": "recover", "jobs": resumed})
        host = OrchestratorHost(orchestrator, leadership, heartbeat_seconds=heartbeat_seconds)
        await host.run(stop)
    finally:
        leadership.release()
    _log.info("stopped: lock released", extra={"event": "stopped", "worker": name})
    return 1 if host.lost_leadership else 0
