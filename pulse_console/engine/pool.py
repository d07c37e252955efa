"""This process's part of the worker pool: a procrastinate worker and the pool's housekeeping.

`PoolWorker.run(stop)` serves the runs of its clients' queues (`queue.py`) with procrastinate
(`concurrency` runs at once, each on a thread of its own; procrastinate's per-client lock
keeps two runs of one client apart) and, every `pool.tick_seconds`:

- beats its `pool_workers` row (what `pulse-console workers` and the console's Workers view
  show) and forgets rows that stopped beating long ago;
- takes over the runs of workers that stopped beating for `pool.stall_seconds`
  (procrastinate's stalled jobs are retried; the worker that picks the task up closes the
  old run INTERRUPTED and resumes the job from its checkpoint, see Orchestrator.run), and
  closes runs left RUNNING with no task at all (Orchestrator.recover);
- ticks the schedule of each of its clients (Orchestrator.step: one decision per client
  per tick across the pool) and publishes each client's Health.

Connections: procrastinate's pool of at most 3 (one of them LISTENs for new tasks and aborts,
one for every queue), the SQLAlchemy pool the runs use, and one NOTIFY connection for the
events of every client. A worker started with `wait=False` (the CLI acting alone) runs what
its queues hold and returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from procrastinate import App, JobContext, PsycopgConnector
from procrastinate.exceptions import ConnectorException
from procrastinate.jobs import Status

from pulse_console.config import Settings
from pulse_console.engine import queue
from pulse_console.engine.events import Event
from pulse_console.engine.job_view import LIVE_WORKERS_SQL
from pulse_console.engine.notify import NotifyPublisher, client_key, events_channel
from pulse_console.engine.orchestrator import Orchestrator
from pulse_console.pipelines.registry import PipelineRegistry
from storage import pool_workers, source_caps, task_queue
from storage.db import Database, search_path_option
from storage.tenancy import client_name, visible_named
from storage.visibility import visible_clients

_log = logging.getLogger("pulse.pool")
SecretLookup = Callable[[str], str | None]
# How long a worker whose queue connection died waits before serving again (doubling).
RESTART_FIRST_SECONDS = 0.5
RESTART_MAX_SECONDS = 30.0


def default_worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class PoolOptions:
    name: str
    concurrency: int = 1
    clients: tuple[str, ...] | None = None  # None: every client the login may see (RLS)
    sources: tuple[str, ...] | None = None  # the `--queues`: None, every source
    tick_seconds: float = 5.0
    stall_seconds: float = 30.0
    source_limits: tuple[tuple[str, int], ...] = ()

    @classmethod
    def from_settings(cls, settings: Settings, name: str, **overrides: Any) -> PoolOptions:
        pool = settings.pool
        values: dict[str, Any] = {
            "concurrency": pool.concurrency,
            "tick_seconds": pool.tick_seconds,
            "stall_seconds": pool.stall_seconds,
            "source_limits": tuple(sorted(pool.source_limits.items())),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(name=name, **values)


def make_app(database: Database, *, max_size: int = 3) -> App:
    """A procrastinate app on the database (same login, same schema) with a small pool."""
    url = database.engine.url.set(drivername="postgresql")
    options = search_path_option(database.engine)
    connector = PsycopgConnector(
        conninfo=url.render_as_string(hide_password=False),
        min_size=1,
        max_size=max_size,
        kwargs={"options": options, "application_name": "pulse-pool"},
    )
    return App(connector=connector)


def live_workers(database: Database, client: str, stall_seconds: float) -> list[str]:
    """Names of the workers that beat within `stall_seconds` and serve `client`."""
    with database.engine.connect() as conn:
        rows = conn.exec_driver_sql(
            LIVE_WORKERS_SQL, {"stall": stall_seconds, "client": client}
        ).scalars()
        return [str(name) for name in rows]


def client_driver(database: Database, client_id: int, client: str) -> str | None:
    """Who drives the client now (`storage.pool_workers.client_driver`)."""
    with database.engine.connect() as conn:
        return pool_workers.client_driver(conn, client_id, client)


class PoolProcess:
    """The pool worker of this process (a `worker` command, a console, the CLI acting alone)."""

    def __init__(
        self,
        database: Database,
        settings: Settings,
        registry: PipelineRegistry,
        options: PoolOptions,
        *,
        secret: SecretLookup | None = None,
        step_after_runs: bool = True,
    ) -> None:
        self.database = database
        self.settings = settings
        self.registry = registry
        self.options = options
        self.secret = secret
        self.step_after_runs = step_after_runs
        self._orchestrators: dict[int, Orchestrator] = {}
        self._lock = threading.Lock()
        self._publisher: NotifyPublisher | None = None
        self._stopping = threading.Event()  # set on shutdown: start nothing new
        self.app = make_app(database)
        self.app.task(name=queue.TASK_RUN, pass_context=True)(self._run_task)
        self.clients = self._clients()

    # --- what it serves -----------------------------------------------------------------

    def _clients(self) -> list[tuple[int, str]]:
        with self.database.session() as session:  # never a client the login cannot see
            if self.options.clients is not None:
                return visible_named(session, self.options.clients)
            return visible_clients(session)

    def queue_names(self) -> list[str] | None:
        """procrastinate queues of this worker (None: all of them)."""
        if self.options.clients is None and self.options.sources is None:
            return None
        sources = self.options.sources or (*self.registry, "none")
        return [queue.queue_name(name, source) for _, name in self.clients for source in sources]

    def orchestrator(self, client_id: int) -> Orchestrator:
        with self._lock:
            found = self._orchestrators.get(client_id)
            if found is not None:
                return found
            with self.database.session() as session:
                name = client_name(session, client_id)
            orch = Orchestrator(
                self.database,
                self.settings,
                self.registry,
                client=name,
                dispatch=queue.defer_run,
                worker_name=self.options.name,
                secret=self.secret,
            )
            channel = events_channel(client_key(self.database, client_id))
            publisher = self._publisher

            def send(event: Event) -> None:
                if publisher is not None:
                    publisher.publish(channel, event)

            orch.bus.subscribe(send)
            if self.step_after_runs:
                orch.on_wake = lambda: self._step(orch)
            self._orchestrators[client_id] = orch
            return orch

    # --- tasks --------------------------------------------------------------------------

    def _run_task(self, context: JobContext, client_id: int, run_id: int) -> None:
        orch = self.orchestrator(client_id)
        if not self._slot_free(orch, run_id):
            return
        orch.run(run_id, should_abort=context.should_abort)

    def _slot_free(self, orch: Orchestrator, run_id: int) -> bool:
        """Per-source caps (`pool.source_limits`): a run over its source's cap is deferred
        again a second later, its job still RUNNING (nothing else of the client runs)."""
        limits = dict(self.options.source_limits)
        if not limits:
            return True
        with self.database.session() as session:
            source = source_caps.run_source(session, run_id)
            cap = None if source is None else limits.get(source)
            if source is None or cap is None:
                return True
            if source_caps.take_slot(session, source, cap, run_id, self.options.name):
                return True
            task_queue.defer_run_later(session, run_id, seconds=1.0)
        return False

    def _step(self, orch: Orchestrator) -> None:
        if self._stopping.is_set():
            return
        try:
            orch.step()
        except Exception:
            _log.exception("the schedule step of %s failed", orch.client)

    # --- housekeeping -------------------------------------------------------------------

    def _register(self) -> None:
        opts = self.options
        with self.database.session() as session:
            pool_workers.register(
                session,
                name=opts.name,
                host=socket.gethostname(),
                pid=os.getpid(),
                concurrency=opts.concurrency,
                queues=list(opts.sources) if opts.sources is not None else None,
                clients=list(opts.clients) if opts.clients is not None else None,
            )

    def _unregister(self) -> None:
        with self.database.session() as session:
            pool_workers.unregister(session, self.options.name)

    def housekeeping(self) -> None:
        """One tick of this worker (blocking: run it on a thread)."""
        forget = max(self.options.stall_seconds * 4, 60)
        with self.database.session() as session:
            pool_workers.beat(session, self.options.name, forget_after=forget)
        for client_id, _ in self.clients:
            if self._stopping.is_set():
                return
            orch = self.orchestrator(client_id)
            try:
                orch.ensure_jobs()  # integrations added since: their jobs, at once
                orch.recover()
                orch.step()
                self._publish_health(orch)
            except Exception:
                _log.exception("housekeeping of %s failed", orch.client)

    def _publish_health(self, orch: Orchestrator) -> None:
        health = orch.health()
        orch.bus.publish(health)

    def _closed_tasks(self) -> list[int]:
        """Tasks still `doing` whose run ended over 5 s ago with no run left on them: their
        process exited between closing the run and telling procrastinate (a console closed
        mid-run), and their client lock would hold every later run of the client."""
        with self.database.engine.connect() as conn:
            return task_queue.closed_but_doing(conn, queue.TASK_RUN)

    async def _take_over_stalled(self) -> None:
        manager = self.app.job_manager
        for task_id in await asyncio.to_thread(self._closed_tasks):
            await manager.finish_job_by_id_async(task_id, Status.SUCCEEDED, delete_job=False)
        stalled = await manager.get_stalled_jobs(
            seconds_since_heartbeat=self.options.stall_seconds, task_name=queue.TASK_RUN
        )
        for job in stalled:
            _log.warning(
                "taking over a stalled run",
                extra={"event": "takeover", "task": job.id, "worker": self.options.name},
            )
            await manager.retry_job(job, priority=queue.PRIORITY["takeover"])

    async def _housekeeping_loop(self) -> None:
        while True:
            try:
                await self._take_over_stalled()
                await asyncio.to_thread(self.housekeeping)
            except ConnectorException as exc:  # the database is away: said once per tick
                _log.warning("pool housekeeping skipped: %s", exc.__cause__ or exc)
            except Exception:
                _log.exception("pool housekeeping failed")
            await asyncio.sleep(self.options.tick_seconds)

    # --- running ------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event, *, wait: bool = True) -> None:
        """Serve until `stop` is set (or, with `wait=False`, until the queues are empty).

        A lost database ends procrastinate's worker with a ConnectorException; it is started
        again once the server answers (its runs, if any, are taken over as stalled), so a
        worker outlives an outage instead of exiting or serving nothing."""
        self._publisher = NotifyPublisher(self.database)
        await asyncio.to_thread(self._register)
        house: asyncio.Task[None] | None = None
        stopped = asyncio.create_task(stop.wait())
        try:
            async with self.app.open_async():
                if wait:
                    house = asyncio.create_task(self._housekeeping_loop())
                pause = RESTART_FIRST_SECONDS
                while not await self._serve_once(stopped, wait=wait):
                    await asyncio.wait({stopped}, timeout=pause)
                    if stopped.done():
                        break
                    pause = min(pause * 2, RESTART_MAX_SECONDS)
        finally:
            for task in (house, stopped):
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
            await asyncio.to_thread(self._close)

    async def _serve_once(self, stopped: asyncio.Task[bool], *, wait: bool) -> bool:
        """Run procrastinate's worker until `stopped` (True) or it ends; False when it ended
        because the database went away (the caller starts it again)."""
        opts = self.options
        beat = max(min(opts.stall_seconds / 3, 10.0), 0.2)
        options: dict[str, Any] = {
            "concurrency": opts.concurrency,
            "name": opts.name,
            "wait": wait,
            "install_signal_handlers": False,
            "update_heartbeat_interval": beat,
            "stalled_worker_timeout": opts.stall_seconds,
            "fetch_job_polling_interval": min(opts.tick_seconds, 5.0),
            "abort_job_polling_interval": min(opts.tick_seconds, 1.0),
            "delete_jobs": "never",  # its events time each run's wait in the queue
        }
        queues = self.queue_names()
        if queues is not None:  # else every queue
            options["queues"] = queues
        worker = asyncio.create_task(self.app.run_worker_async(**options))
        try:
            await asyncio.wait({worker, stopped}, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            # Cancelled from outside (the console quitting): procrastinate's worker ends
            # (and unregisters) while its app is still open, not orphaned after it closed.
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectorException):
                await worker
            raise
        if not worker.done():
            await asyncio.to_thread(self.shutdown_runs)
            worker.cancel()
        try:
            await worker
        except asyncio.CancelledError:
            return True
        except ConnectorException as exc:
            if stopped.done():
                return True
            _log.warning(
                "the queue's database connection was lost (%s); serving again when it is back",
                exc.__cause__ or exc,
                extra={"event": "queue_lost", "worker": opts.name},
            )
            return False
        if wait and not stopped.done():  # a side task (heartbeat, listener) failed: it stopped
            _log.warning(
                "the queue's worker stopped by itself; serving again",
                extra={"event": "queue_lost", "worker": opts.name},
            )
            return False
        return True

    def shutdown_runs(self, timeout: float = 30.0) -> None:
        """Stop this process's runs at their next batch boundary (left PENDING to resume)."""
        self._stopping.set()
        for orch in list(self._orchestrators.values()):
            if not orch.shutdown(timeout):
                _log.warning("a run of %s did not stop within %.0f s", orch.client, timeout)

    def _close(self) -> None:
        with contextlib.suppress(Exception):
            self._unregister()
        for orch in self._orchestrators.values():
            orch.close()
        if self._publisher is not None:
            self._publisher.close()


def run_pool(
    database: Database,
    settings: Settings,
    registry: PipelineRegistry,
    options: PoolOptions,
    *,
    secret: SecretLookup | None = None,
) -> int:
    """`pulse-console worker`: serve until SIGTERM/SIGINT, then stop every run at its next
    batch boundary (left PENDING: another worker resumes it at its next tick) and exit 0."""

    async def main() -> int:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        process = PoolProcess(database, settings, registry, options, secret=secret)
        _log.info(
            "worker: serving the pool",
            extra={
                "event": "serving",
                "worker": options.name,
                "concurrency": options.concurrency,
                "clients": [name for _, name in process.clients],
                "queues": process.queue_names(),
            },
        )
        await process.run(stop)
        _log.info("stopped", extra={"event": "stopped", "worker": options.name})
        return 0

    return asyncio.run(main())
