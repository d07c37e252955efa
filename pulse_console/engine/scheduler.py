"""Real-time driving of an orchestrator with APScheduler 3 (`AsyncIOScheduler`).

The decisions stay in the orchestrator and policy.py; this only wakes it up. One `date` job
("step") is re-armed after every step at the orchestrator's next wake time (capped at
`max_sleep` seconds, so run-time setting changes are picked up), and `wake()` — called from
any thread when a run ends or a control arrives — re-arms it for now. Extra periodic work
(control polling, health beats) is added with `every`. Must be started on a running loop.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from pulse_console.engine.orchestrator import Orchestrator

_log = logging.getLogger("pulse.engine.scheduler")


class SchedulerDriver:
    def __init__(self, orchestrator: Orchestrator, *, max_sleep: float = 30.0) -> None:
        self.orchestrator = orchestrator
        self.max_sleep = max_sleep
        self._scheduler: AsyncIOScheduler | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._step_lock = threading.Lock()
        self._dirty = False

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._scheduler = AsyncIOScheduler(timezone=UTC, event_loop=self._loop)
        self._scheduler.start()
        self.orchestrator.on_wake = self.wake
        self._arm(datetime.now(UTC))

    def every(self, seconds: float, func: Callable[[], object], job_id: str) -> None:
        assert self._scheduler is not None
        self._scheduler.add_job(
            func,
            "interval",
            seconds=seconds,
            id=job_id,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=None,
        )

    def wake(self) -> None:
        """Take a decision as soon as possible (thread-safe)."""
        self._dirty = True
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._arm, datetime.now(UTC))

    def shutdown(self) -> None:
        self.orchestrator.on_wake = lambda: None
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=False)

    def _arm(self, when: datetime) -> None:
        if self._scheduler is None or not self._scheduler.running:
            return
        self._scheduler.add_job(
            self._step,
            "date",
            run_date=when,
            id="step",
            replace_existing=True,
            max_instances=3,
            misfire_grace_time=None,
        )

    def _step(self) -> None:
        with self._step_lock:
            self._dirty = False
            try:
                self.orchestrator.step()
                wake = self.orchestrator.wake_at()
            except Exception:
                _log.exception("orchestrator step failed; retrying shortly")
                wake = None
        now = datetime.now(UTC)
        cap = now + timedelta(seconds=self.max_sleep)
        when = now if self._dirty else min(wake or cap, cap)
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._arm, when)
