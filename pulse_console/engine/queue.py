"""Runs as procrastinate jobs: deferring, aborting and reading them in our own transactions.

A run is deferred in the same transaction that marks its job RUNNING and opens its
`job_runs` row, through procrastinate's SQL API (`storage/task_queue.py`), so a job is
never RUNNING without a task nor a task queued for a job that is not. Each task carries:

- `lock = client:<id>` — procrastinate never runs two jobs holding one lock at once:
  one run per client at a time, whichever worker takes it; the task's `client_id` is
  generated from it, and row-level security shows a task only to its client's logins
  (migration 0023);
- `queueing_lock = job:<id>` — at most one queued (todo) task per job: no duplicate runs;
- queue `<client>.<source>` — a worker serves the queues of its `--clients`/`--queues`;
- priority — procrastinate takes the highest priority first, then the oldest (FIFO).
  Operators' runs (start, resume) come before scheduled ones, a run taken over from a dead
  worker before both. See README "Fairness".
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from storage import task_queue

TASK_RUN = "pulse.run"
PRIORITY = {"resume": 10, "manual": 10, "retry": 0, "schedule": 0, "takeover": 20}
LIVE = ("todo", "doing")


class AlreadyQueued(RuntimeError):
    """The job already has a queued run (its queueing lock is taken)."""


@dataclass(frozen=True)
class DeferredRun:
    client_id: int
    client: str
    job_id: int
    job: str
    run_id: int
    source: str
    trigger: str


def queue_name(client: str, source: str) -> str:
    return f"{client}.{source}"


def client_lock(client_id: int) -> str:
    return f"client:{client_id}"


def defer_run(session: Session, run: DeferredRun) -> int:
    """Queue the run's task in the caller's transaction; returns the procrastinate job id."""
    try:
        return task_queue.defer(
            session,
            queue=queue_name(run.client, run.source),
            task=TASK_RUN,
            priority=PRIORITY.get(run.trigger, 0),
            lock=client_lock(run.client_id),
            queueing_lock=f"job:{run.job_id}",
            args={"client_id": run.client_id, "run_id": run.run_id},
        )
    except task_queue.QueueingLockTaken as exc:
        raise AlreadyQueued(f"{run.job} already has a queued run") from exc


def abort(session: Session, task_id: int) -> str | None:
    """Ask for the task's abort (a queued one is cancelled at once); returns its status now."""
    task_queue.cancel(session, task_id)
    return task_status(session, task_id)


def task_status(session: Session, task_id: int | None) -> str | None:
    return None if task_id is None else task_queue.status(session, task_id)
