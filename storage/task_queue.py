"""procrastinate's task queue in SQL: defer, abort, read and re-defer the tasks of runs.

The engine decides what a task carries (queue, lock, queueing lock, priority:
`pulse_console/engine/queue.py`); these are the statements, run in the caller's transaction
so that a task and the rows it stands for commit together. They go through procrastinate's
own SQL functions, which run as the caller: row-level security (migration 0023) keeps every
statement to the tasks of the login's clients.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

_DEFER = text(
    "SELECT unnest(procrastinate_defer_jobs_v1(ARRAY[ROW(:queue, :task, :priority, :lock,"
    " :queueing_lock, CAST(:args AS jsonb), NULL)::procrastinate_job_to_defer_v1]))"
)
# A copy of the run's task, `seconds` from now, without its queueing lock (the run's job is
# RUNNING: nothing else queues for it).
_DEFER_LATER = text(
    "SELECT unnest(procrastinate_defer_jobs_v1(ARRAY[ROW(j.queue_name, j.task_name,"
    " j.priority, j.lock, NULL, j.args, now() + make_interval(secs => :seconds))"
    "::procrastinate_job_to_defer_v1])) FROM procrastinate_jobs j"
    " WHERE j.id = (SELECT task_id FROM job_runs WHERE id = :run)"
)
# Tasks still `doing` whose run ended over 5 s ago and that no RUNNING run points at.
_CLOSED = text(
    "SELECT p.id FROM procrastinate_jobs p JOIN job_runs r"
    " ON r.id = (p.args->>'run_id')::bigint"
    " WHERE p.status = 'doing' AND p.task_name = :task"
    " AND r.status <> 'RUNNING' AND r.finished_at < now() - interval '5 seconds'"
    " AND NOT EXISTS (SELECT 1 FROM job_runs o WHERE o.task_id = p.id AND o.status = 'RUNNING')"
)


class QueueingLockTaken(RuntimeError):
    """A task with this queueing lock is already waiting in the queue."""


def defer(
    session: Session,
    *,
    queue: str,
    task: str,
    priority: int,
    lock: str,
    queueing_lock: str | None,
    args: dict[str, Any],
) -> int:
    """Queue a task in the caller's transaction; returns its procrastinate job id."""
    params = {
        "queue": queue,
        "task": task,
        "priority": priority,
        "lock": lock,
        "queueing_lock": queueing_lock,
        "args": json.dumps(args),
    }
    try:
        with session.begin_nested():
            return int(session.execute(_DEFER, params).scalar_one())
    except IntegrityError as exc:
        raise QueueingLockTaken(queueing_lock) from exc


def defer_run_later(session: Session, run_id: int, seconds: float) -> None:
    """Queue the run's task again `seconds` from now and point the run at the new task
    (the run keeps its job RUNNING)."""
    again = session.execute(_DEFER_LATER, {"run": run_id, "seconds": seconds}).scalar()
    session.execute(
        text("UPDATE job_runs SET task_id = :t WHERE id = :r"), {"t": again, "r": run_id}
    )


def cancel(session: Session, task_id: int) -> None:
    """Abort the task: a queued one is cancelled at once, a running one is asked to stop."""
    session.execute(text("SELECT procrastinate_cancel_job_v1(:id, true, false)"), {"id": task_id})


def status(session: Session, task_id: int) -> str | None:
    """The task's procrastinate status (None: no such task for this login)."""
    found = session.execute(
        text("SELECT status::text FROM procrastinate_jobs WHERE id = :id"), {"id": task_id}
    ).scalar()
    return None if found is None else str(found)


def closed_but_doing(conn: Connection, task: str) -> list[int]:
    """Tasks of `task` still `doing` although their run closed over 5 s ago (their process
    exited between closing the run and telling procrastinate)."""
    return [int(i) for i in conn.execute(_CLOSED, {"task": task}).scalars()]
