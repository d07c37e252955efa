"""The orchestrator's decisions as pure functions of (jobs, now, policy): no I/O, no sleeping.

Active/passive: one job runs at a time per client. The job "holding the chain" is the first
job in chain order (skipping PAUSED ones) that is PENDING or FAILED, skipping FAILED ones whose
retries are spent. A decision is taken each time the orchestrator wakes:

- nothing starts while a job runs, or while the orchestrator is paused;
- a PENDING holder parked by a rate limit starts (trigger resume) once `parked_until` has
  passed; one interrupted by a shutdown or crash starts at once (resume); one handed the chain
  (`next_run_at` set) starts when that time comes; otherwise it waits for the main tick;
- a FAILED holder is fast-retried `retry_interval` after its last run ended, while
  `retry_count <= max_attempts` (so `max_attempts` retries); after that, or when retry is off,
  its retries are spent: it gives up the chain (the next job is handed it at once) and runs
  again at its turn in the next cycle, so one broken integration never starves the others
  (once per cycle: `retry_count` only clears on a success, so its fast retries come back
  only then);
  a job the operator stopped keeps the chain and waits for the main tick;
- with no holder (every job FINISHED or PAUSED) the main tick starts a new cycle at the
  first non-paused job.

The main tick is due `interval` after the previous tick (the first one at start-up).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from pulse_console.engine.runtime_settings import Policy
from pulse_console.engine.states import JobStatus, Trigger
from pulse_console.engine.store import JobView


@dataclass(frozen=True)
class Decision:
    """What to do now, and when to look again (None: only at the next tick or run end)."""

    start: str | None = None
    trigger: Trigger | None = None
    promote: bool = False  # move the job to PENDING first (FAILED/FINISHED → PENDING)
    wake_at: datetime | None = None
    why: str = ""


def tick_due(last_tick: datetime | None, now: datetime, policy: Policy) -> bool:
    return last_tick is None or now >= last_tick + policy.interval


def next_tick(last_tick: datetime | None, now: datetime, policy: Policy) -> datetime:
    return now if last_tick is None else max(now, last_tick + policy.interval)


def retries_spent(job: JobView, policy: Policy) -> bool:
    """A FAILED job that will not be fast-retried again this cycle (not one the operator
    stopped: that one keeps the chain until the main tick)."""
    if job.status != JobStatus.FAILED or job.stopped_by_operator:
        return False
    return not policy.retry_enabled or job.retry_count > policy.max_attempts


def holder(jobs: Sequence[JobView], policy: Policy) -> JobView | None:
    """The job that holds the chain: the first PENDING or FAILED one (PAUSED ones skipped,
    and FAILED ones whose retries are spent: they wait for their turn in the next cycle)."""
    for job in jobs:
        if job.status == JobStatus.PENDING:
            return job
        if job.status == JobStatus.FAILED and not retries_spent(job, policy):
            return job
    return None


def next_in_chain(jobs: Sequence[JobView], after: str) -> JobView | None:
    """The job the chain hands over to after `after`: the next non-paused one, no wrap."""
    names = [job.name for job in jobs]
    if after not in names:
        return None
    for job in jobs[names.index(after) + 1 :]:
        if job.status != JobStatus.PAUSED:
            return job
    return None


def fast_retry_at(job: JobView, policy: Policy) -> datetime | None:
    """When a FAILED job is fast-retried, or None when it waits for the main tick."""
    if job.status != JobStatus.FAILED or job.stopped_by_operator or not policy.retry_enabled:
        return None
    if job.retry_count > policy.max_attempts:
        return None
    anchor = job.last_finished_at or job.last_run_at
    return None if anchor is None else anchor + policy.retry_interval


def decide(
    jobs: Sequence[JobView], now: datetime, policy: Policy, *, last_tick: datetime | None
) -> Decision:
    if any(job.status == JobStatus.RUNNING for job in jobs):
        return Decision(why="a job is running")
    if policy.paused:
        return Decision(why="orchestrator paused")
    tick = tick_due(last_tick, now, policy)
    upcoming_tick = next_tick(last_tick, now, policy)
    current = holder(jobs, policy)
    if current is None:
        first = next((job for job in jobs if job.status != JobStatus.PAUSED), None)
        if first is None:
            return Decision(why="no job to run")
        if tick:
            retried = first.status == JobStatus.FAILED  # its retries were spent last cycle
            trigger = Trigger.RETRY if retried else Trigger.SCHEDULE
            return Decision(first.name, trigger, promote=True, why="new cycle")
        return Decision(wake_at=upcoming_tick, why="waiting for the tick")

    if current.status == JobStatus.PENDING:
        if current.parked_until is not None:
            if current.parked_until > now:
                return Decision(wake_at=current.parked_until, why="parked by a rate limit")
            return Decision(current.name, Trigger.RESUME, why="rate limit reset")
        if current.interrupted:
            return Decision(current.name, Trigger.RESUME, why="resume an interrupted run")
        if current.next_run_at is not None and current.next_run_at <= now:
            return Decision(current.name, Trigger.SCHEDULE, why="handed the chain")
        if tick:
            return Decision(current.name, Trigger.SCHEDULE, why="tick")
        wake = upcoming_tick
        if current.next_run_at is not None:
            wake = min(wake, current.next_run_at)
        return Decision(wake_at=wake, why="waiting for the tick")

    retry_at = fast_retry_at(current, policy)
    if retry_at is not None:
        if retry_at <= now:
            return Decision(current.name, Trigger.RETRY, promote=True, why="fast retry")
        return Decision(wake_at=min(retry_at, upcoming_tick), why="waiting to retry")
    if tick:
        return Decision(current.name, Trigger.RETRY, promote=True, why="retry at the tick")
    return Decision(wake_at=upcoming_tick, why="stopped by operator: waiting for the tick")


def display_next_run(
    job: JobView, now: datetime, policy: Policy, tick_at: datetime
) -> datetime | None:
    """What the console shows as a job's next run."""
    if job.status == JobStatus.PENDING:
        if job.parked_until is not None:
            return job.parked_until
        if job.interrupted:
            return now
        return min(tick_at, job.next_run_at) if job.next_run_at else tick_at
    if job.status == JobStatus.FAILED:
        if retries_spent(job, policy):
            return None  # it runs at its turn in the next cycle
        return fast_retry_at(job, policy) or tick_at
    return None
