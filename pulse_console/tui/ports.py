"""What the console needs from the engine, as a narrow Protocol (harlequin's adapter idea).

The Jobs and Run history screens talk only to a `JobsPort`. The engine provides the real
implementation (a thin adapter over its service API and event bus); snapshot tests use a
fake. Every method may block (database, NOTIFY) and is called from a thread worker; commands
raise `ControlRefused` with an operator-facing reason when the engine says no.

Optional hook, outside the Protocol (the app looks it up with `getattr`): an adapter that
must drive an engine in this process provides `async def host(stop: asyncio.Event) -> None`.
A live console runs it as a worker on its own asyncio loop from mount until unmount, then
sets `stop`; `host` returns soon after. Adapters with nothing to drive (an attached engine,
the snapshot fakes) leave it out. See `EngineJobs.host`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol, runtime_checkable

# The engine's own read models and control vocabulary are what the console renders and sends.
from pulse_console.engine.controls import Control as Control
from pulse_console.engine.status import RunSummary as RunSummary
from pulse_console.engine.store import JobView as JobView
from pulse_console.services.rate_budget import RateBudget as RateBudget  # LiveProgress.budget


class ControlRefused(Exception):
    """The engine refused a control; `str()` says why, in words an operator can act on."""


@dataclass(frozen=True)
class OrchestratorView:
    running: bool
    paused: bool
    next_tick_at: datetime | None
    mode: Literal["embedded", "attached", "none"] = "embedded"
    worker: str | None = None  # host/pid of the worker holding the client lock
    max_retries: int = 3  # retry.max_attempts: the jobs table shows retry_count/max_retries


@dataclass(frozen=True)
class LiveProgress:
    """The live state of a running job, folded from the engine's `JobProgress` and
    `RateLimitWait` events with a rate and an ETA (replaced wholesale by every update)."""

    job: str
    run_id: int | None
    phase: str
    done: int
    total: int | None  # None: unknown total → indeterminate bar with a counter
    items_per_second: float
    eta_seconds: float | None
    api_calls: int
    rate_limit_reset_at: datetime | None = None  # set while waiting on a rate limit
    started_at: datetime | None = None
    budget: RateBudget | None = None  # None: the source reports no budget (Jira)


@dataclass(frozen=True)
class JobsChanged:
    """Job rows or the orchestrator changed: reload `jobs()` / `orchestrator()`."""


@dataclass(frozen=True)
class ProgressChanged:
    progress: LiveProgress


@dataclass(frozen=True)
class RunFinished:
    job: str
    run_id: int
    status: str


JobEvent = JobsChanged | ProgressChanged | RunFinished


@runtime_checkable
class JobsPort(Protocol):
    """Read models, controls and live events of one client's jobs."""

    def jobs(self) -> list[JobView]: ...

    def orchestrator(self) -> OrchestratorView: ...

    def progress(self) -> LiveProgress | None:
        """The running job's progress, or None when nothing runs."""
        ...

    def runs(self, job: str | None, limit: int = 200) -> list[RunSummary]:
        """Past runs, newest first (`job` None = every job)."""
        ...

    def run_detail(self, run_id: int) -> RunSummary | None: ...

    def control(self, control: Control, job: str | None = None) -> None:
        """Run a job or orchestrator control; raises `ControlRefused` with the engine's reason."""
        ...

    def events(self) -> Iterator[JobEvent]:
        """Blocking stream of events (LISTEN/NOTIFY); ends when `close()` is called."""
        ...

    def close(self) -> None: ...
