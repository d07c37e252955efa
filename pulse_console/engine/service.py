"""The engine's service API: what the console, the CLI and the HTTP API call (never SQL).

`PoolService` is the one implementation: controls run here, in the caller's process and as
its login, on the client's state in the database (the same `Orchestrator` rules everywhere);
a run they start is deferred to the worker pool (engine/pool.py), and a stop or pause reaches
whichever worker executes the run through procrastinate's abort. Its `mode` says who
executes the client's runs:

- `embedded` — this process runs a pool worker for the client: a console (`serve(stop)`,
  on its asyncio loop), or the CLI acting alone when no worker serves the client (it runs
  what it deferred before the command returns);
- `attached` — the pool's workers do; with none serving the client a control fails with the
  line that says to start one.

`status()` reads the client's jobs as `store.JobView`, the read model the console renders.
Subscribers get typed events (`events.py`: JobStatusChanged, JobProgress, LogRecord,
RateLimitWait, Health) from whichever process publishes them, by LISTEN on the client's
channel, decoded back into the same dataclasses.
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from sqlalchemy.exc import IntegrityError, ProgrammingError

from pulse_console.config import Settings
from pulse_console.engine import runtime_settings, store
from pulse_console.engine.clock import Clock, system_clock
from pulse_console.engine.controls import Control, ControlResult, missing_job
from pulse_console.engine.events import Subscriber, decode, encode
from pulse_console.engine.notify import Listener, client_key, events_channel, notify
from pulse_console.engine.orchestrator import Orchestrator
from pulse_console.engine.pool import PoolOptions, PoolProcess, live_workers
from pulse_console.engine.queue import AlreadyQueued, defer_run
from pulse_console.engine.store import JobView
from pulse_console.pipelines.registry import PipelineRegistry
from storage.db import Database
from storage.tenancy import require_client

Mode = Literal["embedded", "attached"]
STARTS = (Control.START, Control.RESUME, Control.ORCHESTRATOR_TICK)


@dataclass(frozen=True)
class EngineStatus:
    client: str
    mode: Mode
    leader: str | None  # a worker that serves the client (None: nobody right now)
    orchestrator_paused: bool
    settings: dict[str, Any]
    jobs: list[JobView]
    workers: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "client": self.client,
            "mode": self.mode,
            "leader": self.leader,
            "workers": self.workers,
            "orchestrator_paused": self.orchestrator_paused,
            "settings": self.settings,
            "jobs": [job.as_json() for job in self.jobs],
        }


class EngineService(Protocol):
    client: str
    mode: Mode

    def status(self) -> EngineStatus: ...
    def control(self, control: Control, job: str | None = None) -> ControlResult: ...
    def set_setting(self, key: str, value: Any) -> ControlResult: ...
    def subscribe(self, callback: Subscriber) -> Any: ...
    def close(self) -> None: ...


def default_actor() -> str:
    user = os.environ.get("USER") or os.environ.get("USERNAME") or "operator"
    return f"{user}@{socket.gethostname()}"


def read_status(
    database: Database, client_id: int, client: str, settings: Settings, mode: Mode
) -> EngineStatus:
    with database.session() as session:
        values = runtime_settings.effective(session, client_id, settings)
        jobs = store.load_jobs(session, client_id)
    workers = live_workers(database, client, settings.pool.stall_seconds)
    return EngineStatus(
        client=client,
        mode=mode,
        leader=workers[0] if workers else None,
        orchestrator_paused=bool(values["orchestrator.paused"]),
        settings=values,
        jobs=jobs,
        workers=workers,
    )


def _secret_lookup(database: Database, settings: Settings) -> Callable[[str], str | None]:
    """Integration tokens for runs this process executes (keyring or encrypted in the DB)."""
    from storage.secrets import open_secret_store

    return open_secret_store(database.engine, settings.data_dir).get


class PoolService:
    """The client's engine as seen from this process (see the module's docstring)."""

    def __init__(
        self,
        database: Database,
        settings: Settings,
        registry: PipelineRegistry,
        *,
        client: str | None = None,
        actor: str | None = None,
        mode: Mode = "attached",
        clock: Clock = system_clock,
        act_alone: bool = False,
    ) -> None:
        self.database = database
        self.settings = settings
        self.registry = registry
        self.client = client or settings.client
        self.actor = actor or default_actor()
        self.mode: Mode = mode
        self.act_alone = act_alone
        with database.session() as session:
            self.client_id = require_client(session, self.client)
        self.orchestrator = Orchestrator(
            database,
            settings,
            registry,
            client=self.client,
            clock=clock,
            dispatch=defer_run,
            worker_name=f"{self.actor}:{os.getpid()}",
        )
        # what this process's controls change, every console and API feed hears
        channel = events_channel(client_key(database, self.client_id))
        self.orchestrator.bus.subscribe(lambda event: notify(database, channel, encode(event)))
        self._listeners: list[Listener] = []
        self._process: PoolProcess | None = None  # this process's worker, while it serves
        self._secret: Callable[[str], str | None] | None = None

    def status(self) -> EngineStatus:
        return read_status(self.database, self.client_id, self.client, self.settings, self.mode)

    def ensure_jobs(self, order: Sequence[str]) -> list[str]:
        """Give integrations added since the pool last looked their jobs now (so a listing
        shows every integration's job). Creating none is harmless: the pool creates them."""
        try:
            with self.database.session() as session:
                return store.ensure_jobs(session, self.client_id, order)
        except (IntegrityError, ProgrammingError):  # created meanwhile, or a read-only role
            return []

    def _nobody(self) -> ControlResult | None:
        if self.mode == "embedded":
            return None
        if live_workers(self.database, self.client, self.settings.pool.stall_seconds):
            return None
        return ControlResult.fail(
            f"no worker or console drives client {self.client} right now; start "
            "`pulse-console worker` (or run this command again to act alone)"
        )

    def control(self, control: Control, job: str | None = None) -> ControlResult:
        refusal = missing_job(control, job)
        if refusal:
            return ControlResult.refuse(refusal)
        nobody = self._nobody()
        if nobody is not None:
            return nobody
        try:
            result = self.orchestrator.control(control, job, actor=self.actor)
        except AlreadyQueued as exc:
            return ControlResult.refuse(str(exc))
        if result.ok and self.act_alone and control in STARTS:
            self.drain()
            target = job or self._running_or_last()
            if target is not None:
                result = self.orchestrator._after_start(target)
        return result

    def _running_or_last(self) -> str | None:
        ran = [(j.last_run_at, j.name) for j in self.orchestrator.jobs() if j.last_run_at]
        return max(ran)[1] if ran else None

    def set_setting(self, key: str, value: Any) -> ControlResult:
        """Stored at once (validated, audited); every worker reads it at its next tick."""
        result = self.orchestrator.set_setting(key, value, actor=self.actor)
        if result.ok and self._nobody() is not None:
            return ControlResult.done(f"{result.message} (applies when a worker drives the client)")
        return result

    def subscribe(self, callback: Subscriber) -> Listener:
        """Follow the client's events, whoever publishes them; `.stop()` the listener."""

        def deliver(channel: str, payload: str) -> None:
            event = decode(payload)
            if event is not None:
                callback(event)

        channel = events_channel(client_key(self.database, self.client_id))
        listener = Listener(self.database, [channel], deliver, name="pulse-events")
        self._listeners.append(listener)
        return listener

    def pool(self, *, step_after_runs: bool) -> PoolProcess:
        """A pool worker of this process that serves this client only."""
        if self._secret is None:
            self._secret = _secret_lookup(self.database, self.settings)
        options = PoolOptions.from_settings(
            self.settings, f"{self.actor}:{os.getpid()}", clients=(self.client,)
        )
        return PoolProcess(
            self.database,
            self.settings,
            self.registry,
            options,
            secret=self._secret,
            step_after_runs=step_after_runs,
        )

    async def serve(self, stop: asyncio.Event) -> None:
        """Run this client's pool worker in this process until `stop` is set (a console)."""
        self._process = self.pool(step_after_runs=True)
        try:
            await self._process.run(stop)
        finally:
            self._process = None

    def drain(self) -> None:
        """Execute what is queued for this client, here, and return (the CLI acting alone)."""
        asyncio.run(self.pool(step_after_runs=False).run(asyncio.Event(), wait=False))

    def close(self) -> None:
        """Stop the runs this process executes at their next batch boundary (left PENDING
        "interrupted" for the pool to resume), then let go of everything."""
        process = self._process
        if process is not None:
            process.shutdown_runs()
        for listener in self._listeners:
            listener.stop()
        self.orchestrator.close()


def connect(
    database: Database,
    settings: Settings,
    registry: PipelineRegistry,
    *,
    client: str | None = None,
    actor: str | None = None,
    clock: Clock = system_clock,
    background: bool = False,
    drive: bool = True,
) -> PoolService:
    """The client's engine for this process.

    `background=True` (a console) serves the client in-process (`serve`) besides any pool
    workers; otherwise (the CLI) it acts alone — runs what it starts before the call
    returns — only while no worker serves the client. `drive=False` (a login whose role may
    not run the engine) never executes runs.
    """
    name = client or settings.client
    service = _connect(database, settings, registry, name, actor, clock, background, drive)
    if drive:
        service.ensure_jobs(registry.order)
    return service


def _connect(
    database: Database,
    settings: Settings,
    registry: PipelineRegistry,
    name: str,
    actor: str | None,
    clock: Clock,
    background: bool,
    drive: bool,
) -> PoolService:
    if not drive:
        return PoolService(database, settings, registry, client=name, actor=actor, clock=clock)
    if background:
        return PoolService(
            database, settings, registry, client=name, actor=actor, clock=clock, mode="embedded"
        )
    alone = not live_workers(database, name, settings.pool.stall_seconds)
    return PoolService(
        database,
        settings,
        registry,
        client=name,
        actor=actor,
        clock=clock,
        mode="embedded" if alone else "attached",
        act_alone=alone,
    )
