"""Scripted pipelines: small, honest implementations of the Pipeline contract for engine tests."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar

from sqlalchemy import insert

from connectors.errors import Cancelled, RateLimited
from pulse_console.pipelines.base import Progress, RunContext, RunResult
from pulse_console.pipelines.checkpoint import Checkpoint, commit_batch
from pulse_console.pipelines.registry import PipelineRegistry
from storage.models import WorkItem


@dataclass
class Script:
    """What a scripted job does on each run, shared by every run of that job."""

    fail_first: int = 0  # fail this many runs, then succeed
    fail_always: bool = False
    rate_limit_once_for: timedelta | None = None
    duration: timedelta = timedelta(0)  # simulated time a run takes (fake clock)
    runs: list[datetime] = field(default_factory=list)
    advance: object = None  # callable(datetime) moving the fake clock

    def run(self, ctx: RunContext) -> RunResult:
        self.runs.append(ctx.clock())
        ctx.report(Progress(phase="extract", done=0, total=1))
        if self.duration and callable(self.advance):
            self.advance(ctx.clock() + self.duration)
        if self.rate_limit_once_for is not None:
            wait, self.rate_limit_once_for = self.rate_limit_once_for, None
            raise RateLimited(
                "429 from the sandbox",
                reset_at=ctx.clock() + wait,
                retry_after=None,
                source="sandbox",
            )
        if self.fail_always or len(self.runs) <= self.fail_first:
            raise RuntimeError(f"scripted failure #{len(self.runs)}")
        ctx.log.info("scripted run ok", extra={"records": 1})
        return RunResult(records=1, api_calls=2, checkpoint={"runs": len(self.runs)})


class _Scripted:
    job_name: ClassVar[str] = "scripted"

    def __init__(self, script: Script) -> None:
        self.script = script

    def run(self, ctx: RunContext) -> RunResult:
        return self.script.run(ctx)


def registry_of(scripts: dict[str, Script]) -> PipelineRegistry:
    """Each script under its job's name (`add_jobs` gives every job an integration type of
    its own name); `ensure_jobs` adds no jobs (no type in the chain order)."""
    registry = PipelineRegistry(order=())
    for name, script in scripts.items():
        registry.register(name, lambda s=script: _Scripted(s))  # type: ignore[misc]
    return registry


class BatchLoader:
    """Loads `batches` x `size` work items, committing each batch with its checkpoint through
    the pipelines' shared `commit_batch` (so it is fenced like every real source).

    Checks the cancel flag at every batch boundary. `hold_after` makes the run wait (up to
    `hold_seconds`, waking early when cancelled) after that batch, so a test can stop or pause
    it at a known point; `held` is set when it gets there.
    """

    job_name: ClassVar[str] = "batch_loader"

    def __init__(
        self,
        batches: int = 10,
        size: int = 5,
        hold_after: int | None = None,
        hold_seconds: float = 10.0,
        batch_seconds: float = 0.0,
    ) -> None:
        self.batches = batches
        self.size = size
        self.hold_after = hold_after
        self.hold_seconds = hold_seconds
        self.batch_seconds = batch_seconds  # time a batch "takes" after the hold ends
        self.held = threading.Event()

    def run(self, ctx: RunContext) -> RunResult:
        checkpoint = Checkpoint(ctx, "batches")
        start = int(checkpoint.read().get("next", 0))
        ctx.log.info("resuming at batch %d", start)
        records = 0
        for batch in range(start, self.batches):
            if ctx.cancel():
                raise Cancelled(f"stopped before batch {batch}")
            rows = [
                {
                    "client_id": ctx.client_id,
                    "integration_id": ctx.integration.id,
                    "source": "sandbox",
                    "external_id": str(batch * self.size + i),
                    "key": f"SBX-{batch * self.size + i}",
                }
                for i in range(self.size)
            ]
            # plain INSERT: a duplicate would fail
            commit_batch(
                checkpoint,
                {"next": batch + 1},
                lambda conn, rows=rows: conn.execute(insert(WorkItem), rows),  # type: ignore[misc]
            )
            records += len(rows)
            ctx.report(Progress(phase="load", done=batch + 1, total=self.batches))
            if self.hold_after is not None and batch + 1 == self.hold_after:
                self.held.set()
                ctx.cancel.wait(self.hold_seconds)
                time.sleep(self.batch_seconds)
                self.hold_after = None
        return RunResult(records=records, checkpoint={"next": self.batches})


class ThreadDispatch:
    """A `dispatch` for simulations that run a job on a thread of their own (as a pool worker
    would): the run starts once the launching transaction commits (Orchestrator.run waits
    for the client's launch lock), so a test can control it while it runs."""

    def __init__(self) -> None:
        self.orchestrator: Any = None
        self._threads: list[threading.Thread] = []

    def __call__(self, session: object, run: Any) -> int:
        thread = threading.Thread(target=self.orchestrator.run, args=(run.run_id,), daemon=True)
        self._threads.append(thread)
        thread.start()
        return 0  # no procrastinate task

    def join(self, timeout: float) -> bool:
        for thread in list(self._threads):
            thread.join(timeout)
        return not any(t.is_alive() for t in self._threads)
