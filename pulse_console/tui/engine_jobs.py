"""The real `JobsPort`: a thin adapter over the engine's service API and its events.

Read models are the engine's own: `service.status()` jobs and `engine.status` runs; live
progress is the latest `JobProgress`/`RateLimitWait` event kept in memory; a control goes to
`service.control` and a refusal raises `ControlRefused` with the engine's reason. Engine
events arrive on the engine's threads and are queued (thread-safe) for the single `events()`
consumer. An embedded service serves its client's runs in-process with `host(stop)` (a pool
worker of the console), which the app runs on its own asyncio loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import datetime
from typing import Any

from pulse_console.engine import events as engine_events
from pulse_console.engine.service import PoolService
from pulse_console.engine.status import RunSummary, get_run, list_runs
from pulse_console.services import connectivity
from pulse_console.tui.ports import (
    Control,
    ControlRefused,
    JobEvent,
    JobsChanged,
    JobView,
    LiveProgress,
    OrchestratorView,
    ProgressChanged,
    RateBudget,
    RunFinished,
)

_CLOSED = object()
_log = logging.getLogger("pulse.console")


def _budget(event: engine_events.JobProgress) -> RateBudget | None:
    if event.budget_remaining is None:
        return None
    return RateBudget(event.budget_remaining, event.budget_limit, event.budget_reset_at)


class EngineJobs:
    """`JobsPort` over a `PoolService` (embedded or attached)."""

    def __init__(
        self,
        service: PoolService,
        *,
        reconnect: Callable[[], PoolService] | None = None,
        retry_seconds: float = 1.0,
    ) -> None:
        self.service = service
        self._reconnect = reconnect
        self.retry_seconds = retry_seconds
        self._lock = threading.Lock()
        self._queue: queue.Queue[object] = queue.Queue()
        self._progress: LiveProgress | None = None
        self._started: dict[int, datetime] = {}  # run id → first progress seen
        self._next_tick_at: datetime | None = None
        self._closed = False
        self._subscription = service.subscribe(self._on_event)

    # --- read models ------------------------------------------------------------------

    @property
    def _database(self) -> Any:
        return self.service.database

    def jobs(self) -> list[JobView]:
        return self.service.status().jobs

    def orchestrator(self) -> OrchestratorView:
        status = self.service.status()
        return OrchestratorView(
            running=status.leader is not None,
            paused=status.orchestrator_paused,
            next_tick_at=self._next_tick_at,
            mode=status.mode,
            worker=status.leader,
            max_retries=int(status.settings.get("retry.max_attempts", 3)),
        )

    def progress(self) -> LiveProgress | None:
        with self._lock:
            return self._progress

    def runs(self, job: str | None, limit: int = 200) -> list[RunSummary]:
        return list_runs(self._database, self.service.client, job, limit)

    def run_detail(self, run_id: int) -> RunSummary | None:
        return get_run(self._database, self.service.client, run_id)

    # --- controls ---------------------------------------------------------------------

    def control(self, control: Control, job: str | None = None) -> None:
        result = self.service.control(control, job)
        if not result.ok:
            raise ControlRefused(result.message or f"{control.words} was refused")
        self._queue.put(JobsChanged())

    # --- events -----------------------------------------------------------------------

    def _on_event(self, event: engine_events.Event) -> None:
        """Called on the engine's threads: translate, remember, queue; never block."""
        out: list[JobEvent] = []
        with self._lock:
            if isinstance(event, engine_events.JobProgress):
                started = self._started.setdefault(event.run_id, event.at)
                elapsed = max((event.at - started).total_seconds(), 0.0)
                rate = event.done / elapsed if elapsed > 0 else 0.0
                eta = (
                    (event.total - event.done) / rate
                    if event.total is not None and rate > 0
                    else None
                )
                self._progress = LiveProgress(
                    job=event.job,
                    run_id=event.run_id,
                    phase=event.phase,
                    done=event.done,
                    total=event.total,
                    items_per_second=rate,
                    eta_seconds=eta,
                    api_calls=event.api_calls,
                    started_at=started,
                    budget=_budget(event),
                )
                out.append(ProgressChanged(self._progress))
            elif isinstance(event, engine_events.RateLimitWait):
                base = self._progress
                if base is None or base.job != event.job:
                    base = LiveProgress(
                        job=event.job,
                        run_id=event.run_id,
                        phase="rate limit",
                        done=0,
                        total=None,
                        items_per_second=0.0,
                        eta_seconds=None,
                        api_calls=0,
                    )
                self._progress = replace(base, rate_limit_reset_at=event.until)
                out.append(ProgressChanged(self._progress))
            elif isinstance(event, engine_events.JobStatusChanged):
                if event.previous == "RUNNING" and event.status != "RUNNING":
                    if self._progress is not None and self._progress.job == event.job:
                        self._progress = None
                    if event.run_id is not None:
                        self._started.pop(event.run_id, None)
                        out.append(RunFinished(event.job, event.run_id, str(event.status)))
                    else:
                        out.append(JobsChanged())
                else:
                    out.append(JobsChanged())
            elif isinstance(event, engine_events.Health):
                changed = self._next_tick_at != event.next_tick_at
                self._next_tick_at = event.next_tick_at
                if changed:
                    out.append(JobsChanged())
        for item in out:
            self._queue.put(item)

    def events(self) -> Iterator[JobEvent]:
        """Blocking stream of the engine's events; ends when `close()` is called."""
        while True:
            item = self._queue.get()
            if item is _CLOSED:
                self._queue.put(_CLOSED)  # later callers end at once too
                return
            yield item  # type: ignore[misc]

    # --- lifetime ---------------------------------------------------------------------

    async def host(self, stop: asyncio.Event) -> None:
        """Serve an embedded service's runs in real time until `stop` is set (attached: just
        wait).

        The console's pool worker rides out a short database drop (its pools reconnect);
        when it gives up, with a `reconnect` factory the console connects afresh once the
        database answers and serves again: the run the drop cut short is closed INTERRUPTED
        and resumed from its checkpoint.
        """
        while self.service.mode == "embedded" and not stop.is_set():
            try:
                await self.service.serve(stop)  # rides out short drops by itself
                if stop.is_set() or self._reconnect is None:
                    break
            except Exception as error:  # its worker gave up: the database is gone
                if self._reconnect is None or not connectivity.is_connection_error(error):
                    raise
            _log.warning("the engine lost its database connection: reconnecting")
            replacement = await self._connect_again(stop)
            if replacement is None:
                break
            await asyncio.to_thread(self._swap, replacement)
        await stop.wait()

    async def _connect_again(self, stop: asyncio.Event) -> PoolService | None:
        assert self._reconnect is not None
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.retry_seconds)
            try:
                return await asyncio.to_thread(self._reconnect)
            except Exception as error:
                if not connectivity.is_connection_error(error):
                    raise
        return None

    def _swap(self, replacement: PoolService) -> None:
        """Put a fresh service in place of one whose connection died."""
        with self._lock:
            if self._closed:  # the console is leaving: keep nothing open
                replacement.close()
                return
            spent, unsubscribe = self.service, self._subscription
            self.service = replacement
            self._progress = None
            self._started.clear()
        if callable(unsubscribe):
            unsubscribe()
        try:
            spent.close()
        except Exception:
            _log.warning("closing the engine that lost its connection failed", exc_info=True)
        self._subscription = replacement.subscribe(self._on_event)
        _log.info("the engine is back (%s)", replacement.mode)
        self._queue.put(JobsChanged())

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
        if callable(self._subscription):
            self._subscription()
        self.service.close()
        self._queue.put(_CLOSED)
