"""The engine's service API: what the console and the CLI call (they never run SQL).

`EngineService` is one interface with two implementations:

- `EmbeddedService` — this process holds the client's lock and runs the orchestrator
  (a console on a laptop, or the CLI acting alone). Controls execute in-process; events come
  from the in-process bus. Call `host(stop)` on a running asyncio loop to drive it in real
  time; it also serves controls sent by other processes.
- `AttachedService` — another process (a worker, or another console) holds the lock.
  Controls become control-table rows plus a NOTIFY and the answer is awaited; events arrive
  by LISTEN and are decoded back into the same dataclasses.

`connect()` picks one: it tries the client's lock and falls back to attaching. Every control
(`control(Control.START, "sandbox-jira")`, see controls.py) returns a `ControlResult` (ok /
refused with the reason / failed). `status()` reads the client's jobs as `store.JobView`, the
read model the console renders too. Subscribers get typed events
(`events.py`: JobStatusChanged, JobProgress, LogRecord, RateLimitWait, Health,
ControlAnswered) on a background thread; the TUI wraps them into Textual messages.
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from sqlalchemy.exc import IntegrityError, ProgrammingError

from pulse_console.config import Settings
from pulse_console.engine import controls, runtime_settings, store
from pulse_console.engine.clock import Clock, system_clock
from pulse_console.engine.controls import Control, ControlResult, missing_job
from pulse_console.engine.events import Subscriber, decode
from pulse_console.engine.host import OrchestratorHost
from pulse_console.engine.leadership import Leadership, current_leader
from pulse_console.engine.notify import Listener, control_channel, events_channel, notify
from pulse_console.engine.orchestrator import Orchestrator
from pulse_console.engine.runner import InlineRunner, Runner, ThreadRunner
from pulse_console.engine.store import JobView
from pulse_console.pipelines.registry import PipelineRegistry
from storage.db import Database
from storage.tenancy import require_client

Mode = Literal["embedded", "attached"]


@dataclass(frozen=True)
class EngineStatus:
    client: str
    mode: Mode
    leader: str | None  # who drives the client (None: nobody right now)
    orchestrator_paused: bool
    settings: dict[str, Any]
    jobs: list[JobView]

    def as_json(self) -> dict[str, Any]:
        return {
            "client": self.client,
            "mode": self.mode,
            "leader": self.leader,
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
    return EngineStatus(
        client=client,
        mode=mode,
        leader=current_leader(database, client_id),
        orchestrator_paused=bool(values["orchestrator.paused"]),
        settings=values,
        jobs=jobs,
    )


class EmbeddedService:
    mode: Mode = "embedded"

    def __init__(self, orchestrator: Orchestrator, leadership: Leadership, actor: str) -> None:
        self.orchestrator = orchestrator
        self.leadership = leadership
        self.actor = actor
        self.client = orchestrator.client

    def status(self) -> EngineStatus:
        o = self.orchestrator
        return read_status(o.database, o.client_id, o.client, o.settings, "embedded")

    def control(self, control: Control, job: str | None = None) -> ControlResult:
        return self.orchestrator.control(control, job, actor=self.actor)

    def set_setting(self, key: str, value: Any) -> ControlResult:
        return self.orchestrator.set_setting(key, value, actor=self.actor)

    def subscribe(self, callback: Subscriber) -> Any:
        return self.orchestrator.bus.subscribe(callback)

    async def host(self, stop: asyncio.Event) -> bool:
        """Drive the orchestrator in real time until `stop` is set (needs a ThreadRunner).

        Returns True when it stopped because the client's lock was lost (its connection
        died, e.g. with the database): this service is spent, `connect()` again.
        """
        host = OrchestratorHost(self.orchestrator, self.leadership)
        await host.run(stop)
        return host.lost_leadership

    def close(self) -> None:
        self.orchestrator.shutdown()
        self.leadership.release()


class AttachedService:
    mode: Mode = "attached"

    def __init__(
        self,
        database: Database,
        settings: Settings,
        *,
        client: str | None = None,
        actor: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.database = database
        self.settings = settings
        self.client = client or settings.client
        self.actor = actor or default_actor()
        self.timeout = timeout
        with database.session() as session:
            self.client_id = require_client(session, self.client)
        self.key = Leadership(database, self.client_id, "probe").key
        self._listeners: list[Listener] = []

    def status(self) -> EngineStatus:
        return read_status(self.database, self.client_id, self.client, self.settings, "attached")

    def ensure_jobs(self, order: Sequence[str]) -> list[str]:
        """Give integrations added since the orchestrator last looked their jobs now (so a
        listing shows every integration's job); the driving orchestrator adopts the rows at
        its next step. Creating none is harmless: that orchestrator creates them too."""
        try:
            with self.database.session() as session:
                return store.ensure_jobs(session, self.client_id, order)
        except (IntegrityError, ProgrammingError):  # created meanwhile, or a read-only role
            return []

    def send(
        self, action: str, job: str | None, args: dict[str, Any] | None = None
    ) -> ControlResult:
        """Queue a control for the process that drives the client and wait for its answer."""
        if current_leader(self.database, self.client_id) is None:
            return ControlResult.fail(
                f"no worker or console drives client {self.client} right now; start "
                "`pulse-console worker` (or run this command again to act alone)"
            )
        with self.database.session() as session:
            command_id, queued = controls.submit(
                session, self.client_id, action, job, actor=self.actor, args=args
            )
        if not queued:
            what = job or "the orchestrator"
            return ControlResult.refuse(
                f"a control of {what} is already pending (#{command_id}); wait for its answer"
            )
        notify(self.database, control_channel(self.key), str(command_id))
        result = controls.wait_for_answer(self.database, command_id, timeout=self.timeout)
        if result is None:
            return ControlResult.fail(
                f"no answer from the worker within {self.timeout:.0f} s; the command expired"
            )
        return result

    def control(self, control: Control, job: str | None = None) -> ControlResult:
        refusal = missing_job(control, job)  # refused here: no row for the worker to refuse
        if refusal:
            return ControlResult.refuse(refusal)
        return self.send(control.value, job)

    def set_setting(self, key: str, value: Any) -> ControlResult:
        return self.send(controls.SET_SETTING, None, {"key": key, "value": value})

    def subscribe(self, callback: Subscriber) -> Listener:
        """Follow the driving process's events; returns the listener (`.stop()` it)."""

        def deliver(channel: str, payload: str) -> None:
            event = decode(payload)
            if event is not None:
                callback(event)

        listener = Listener(
            self.database, [events_channel(self.key)], deliver, name="pulse-attached"
        )
        self._listeners.append(listener)
        return listener

    def close(self) -> None:
        for listener in self._listeners:
            listener.stop()


def _secret_lookup(database: Database, settings: Settings) -> Callable[[str], str | None]:
    """Integration tokens for runs this process drives (keyring or encrypted in the DB)."""
    from storage.secrets import open_secret_store

    return open_secret_store(database.engine, settings.data_dir).get


def connect(
    database: Database,
    settings: Settings,
    registry: PipelineRegistry,
    *,
    client: str | None = None,
    actor: str | None = None,
    clock: Clock = system_clock,
    runner: Runner | None = None,
    background: bool = False,
    timeout: float = 10.0,
    drive: bool = True,
) -> EmbeddedService | AttachedService:
    """Drive the client if nobody else does (embedded), else attach to whoever does.

    `background=True` (a console) runs jobs on threads; otherwise (the CLI) a started job
    runs to its end before the call returns. `drive=False` (a login whose role may not run
    the engine) always attaches.
    """
    name = client or settings.client
    with database.session() as session:
        client_id = require_client(session, name)
    if not drive:
        return AttachedService(database, settings, client=name, actor=actor, timeout=timeout)
    leadership = Leadership(database, client_id, f"{default_actor()}:{os.getpid()}")
    if not leadership.try_acquire():
        leadership.release()
        return AttachedService(database, settings, client=name, actor=actor, timeout=timeout)
    orchestrator = Orchestrator(
        database,
        settings,
        registry,
        client=name,
        clock=clock,
        runner=runner or (ThreadRunner() if background else InlineRunner()),
        worker_name=leadership.name,
        secret=_secret_lookup(database, settings),
        fence=leadership.fence,
    )
    orchestrator.ensure_jobs()
    orchestrator.recover()
    return EmbeddedService(orchestrator, leadership, actor or default_actor())
