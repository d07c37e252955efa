"""Runs as procrastinate jobs: deferring, aborting and reading them in our own transactions.

A run is deferred in the same transaction that marks its job RUNNING and opens its
`job_runs` row, through procrastinate's SQL API (`procrastinate_defer_jobs_v1`,
`procrastinate_cancel_job_v1`), so a job is never RUNNING without a task nor a task queued
for a job that is not. Each task carries:

- `lock = client:<id>` — procrastinate never runs two jobs holding one lock at once:
  one run per client at a time, whichever worker takes it;
- `queueing_lock = job:<id>` — at most one queued (todo) task per job: no duplicate runs;
- queue `<client>.<source>` — a worker serves the queues of its `--clients`/`--queues`;
- priority — procrastinate takes the highest priority first, then the oldest (FIFO).
  Operators' runs (start, resume) come before scheduled ones, a run taken over from a dead
  worker before both. See README "Fairness".
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

TASK_RUN = "pulse.run"
PRIORITY = {"resume": 10, "manual": 10, "retry": 0, "schedule": 0, "takeover": 20}
LIVE = ("todo", "doing")

_DEFER = text(
    "SELECT unnest(procrastinate_defer_jobs_v1(ARRAY[ROW(:queue, :task, :priority, :lock,"
    " :queueing_lock, CAST(:args AS jsonb), NULL)::procrastinate_job_to_defer_v1]))"
)


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
    params = {
        "queue": queue_name(run.client, run.source),
        "task": TASK_RUN,
        "priority": PRIORITY.get(run.trigger, 0),
        "lock": client_lock(run.client_id),
        "queueing_lock": f"job:{run.job_id}",
        "args": json.dumps({"client_id": run.client_id, "run_id": run.run_id}),
    }
    try:
        with session.begin_nested():
            return int(session.execute(_DEFER, params).scalar_one())
    except IntegrityError as exc:
        raise AlreadyQueued(f"{run.job} already has a queued run") from exc


def abort(session: Session, task_id: int) -> str | None:
    """Ask for the task's abort (a queued one is cancelled at once); returns its status now."""
    session.execute(text("SELECT procrastinate_cancel_job_v1(:id, true, false)"), {"id": task_id})
    return task_status(session, task_id)


def task_status(session: Session, task_id: int | None) -> str | None:
    if task_id is None:
        return None
    found = session.execute(
        text("SELECT status::text FROM procrastinate_jobs WHERE id = :id"), {"id": task_id}
    ).scalar()
    return None if found is None else str(found)
