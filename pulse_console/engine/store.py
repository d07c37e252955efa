"""Persistence of jobs and job runs: every status change goes through `transition`.

All functions take the caller's session so a transition, its `job_runs` row and any other
change commit together. `transition` locks the job row (`FOR UPDATE`) and checks the state
machine before writing, so two processes can never apply conflicting changes.

Where jobs come from: one job per active integration, named after it (`ensure_jobs`), in
chain order: by source (the registry's type order: Jira, Azure DevOps, Aha!, GitHub), then by
name. A new job starts PENDING when nothing else of the client is waiting or running, else
FINISHED (it joins at the next cycle of the chain). A deactivated integration's job leaves the
chain (`load_jobs` no longer lists it) but keeps its row, runs and logs; it comes back with its
history when the integration is reactivated.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, exists, func, select, update
from sqlalchemy.orm import Session

from pulse_console.engine.job_view import (
    INTERRUPTED,
    JOBS_SQL,
    STOPPED_BY_OPERATOR,
    JobView,
    job_views,
    jobs_params,
)
from pulse_console.engine.states import JobStatus, RunStatus, Trigger, check_transition

__all__ = ["INTERRUPTED", "STOPPED_BY_OPERATOR", "JobView", "Trigger"]
from storage.models import Checkpoint, Integration, Job, JobRun

PAUSED_BY_OPERATOR = "paused by operator"
SPENT = "retries spent, the chain moved on"  # a FAILED job's reason: it runs next cycle
RETIRED = "its integration is deactivated: out of the chain"


class UnknownJob(LookupError):
    """The client has no job of that name; `str()` lists the ones it has."""


def in_chain() -> ColumnElement[bool]:
    """A job is in its client's chain unless its integration is deactivated."""
    return ~exists().where(Integration.id == Job.integration_id, Integration.active.is_(False))


def load_jobs(session: Session, client_id: int, *, retired: bool = False) -> list[JobView]:
    """The client's jobs in chain order, with the end time of each one's latest run and the
    records that run loaded; `retired` adds the jobs of deactivated integrations. The SQL is
    `job_view.JOBS_SQL`, the one the light `jobs list` runs too."""
    session.flush()  # the session's own changes first, as a query through it would
    rows = session.connection().exec_driver_sql(JOBS_SQL, jobs_params(client_id, retired=retired))
    return job_views(rows)


def view(
    job: Job, last_finished_at: datetime | None = None, last_records: int | None = None
) -> JobView:
    """The read model of a job row (its latest run's end and records given by the caller)."""
    return JobView(
        id=job.id,
        name=job.name,
        status=JobStatus(job.status),
        position=job.position,
        retry_count=job.retry_count,
        next_run_at=job.next_run_at,
        parked_until=job.parked_until,
        status_reason=job.status_reason,
        integration_id=job.integration_id,
        last_run_at=job.last_run_at,
        last_finished_at=last_finished_at,
        cancel_requested=job.cancel_requested,
        last_records=last_records,
    )


def get_job(session: Session, client_id: int, name: str, *, lock: bool = False) -> Job:
    stmt = select(Job).where(Job.client_id == client_id, Job.name == name)
    if lock:
        stmt = stmt.with_for_update()
    job = session.execute(stmt).scalar()
    if job is None:
        names = session.execute(
            select(Job.name)
            .where(Job.client_id == client_id, in_chain())
            .order_by(Job.position, Job.name)
        ).scalars()
        raise UnknownJob(unknown_job(name, names))
    return job


def unknown_job(name: str, known: Iterable[str]) -> str:
    listed = ", ".join(known) or "none yet (add an integration)"
    return f"no job {name!r} for this client; jobs: {listed}"


def ensure_job(
    session: Session,
    client_id: int,
    name: str,
    *,
    position: int,
    integration_id: int | None = None,
) -> bool:
    """Create the job row if missing; True when it was created."""
    exists = session.execute(
        select(Job.id).where(Job.client_id == client_id, Job.name == name)
    ).scalar()
    if exists is not None:
        return False
    busy = session.execute(
        select(func.count())
        .select_from(Job)
        .where(
            Job.client_id == client_id,
            Job.status.in_([JobStatus.PENDING, JobStatus.RUNNING, JobStatus.FAILED]),
            in_chain(),
        )
    ).scalar_one()
    session.add(
        Job(
            client_id=client_id,
            name=name,
            integration_id=integration_id,
            position=position,
            status=JobStatus.FINISHED if busy else JobStatus.PENDING,
            status_reason="new job: joins the next cycle" if busy else "new job",
        )
    )
    session.flush()
    return True


def ensure_jobs(session: Session, client_id: int, order: Sequence[str]) -> list[str]:
    """Give every active integration whose type is in `order` (the chain's type order) its
    job, named after it, and put the client's jobs in chain order (type, then name); a
    deactivated integration's waiting job gives up the chain. Returns the names created."""
    integrations = session.execute(
        select(Integration.id, Integration.name, Integration.type, Integration.active).where(
            Integration.client_id == client_id, Integration.type.in_(order)
        )
    ).all()
    jobs = {
        job.integration_id: job
        for job in session.execute(
            select(Job).where(Job.client_id == client_id, Job.integration_id.is_not(None))
        ).scalars()
    }
    active = sorted(
        (row for row in integrations if row.active),
        key=lambda row: (order.index(row.type), row.name),
    )
    created: list[str] = []
    for rank, row in enumerate(active, start=1):
        job = jobs.get(row.id)
        if job is None:
            if ensure_job(session, client_id, row.name, position=rank * 10, integration_id=row.id):
                created.append(row.name)
        elif job.position != rank * 10:
            job.position = rank * 10
    for row in integrations:
        job = jobs.get(row.id)
        if (
            not row.active
            and job is not None
            and job.status in (JobStatus.PENDING, JobStatus.FAILED)
        ):
            transition(session, client_id, job.name, JobStatus.FINISHED, reason=RETIRED)
    session.flush()
    return created


def transition(
    session: Session,
    client_id: int,
    name: str,
    target: JobStatus,
    *,
    reason: str | None,
    **fields: Any,
) -> JobStatus:
    """Move job `name` to `target` (checked), setting `fields`; returns the previous status."""
    job = get_job(session, client_id, name, lock=True)
    previous = JobStatus(job.status)
    check_transition(name, previous, target)
    job.status = target
    job.status_reason = reason
    for key, value in fields.items():
        setattr(job, key, value)
    job.updated_at = func.now()
    session.flush()
    return previous


def set_fields(session: Session, client_id: int, name: str, **fields: Any) -> None:
    """Change non-status fields (display times, cancel flag) of a job."""
    session.execute(
        update(Job).where(Job.client_id == client_id, Job.name == name).values(**fields)
    )


def integration_checkpoints(
    session: Session, client_id: int, integration_id: int | None
) -> dict[str, Any]:
    """Every stored checkpoint of the integration, by scope (for checkpoint_before/after)."""
    if integration_id is None:
        return {}
    rows = session.execute(
        select(Checkpoint.scope, Checkpoint.state).where(
            Checkpoint.client_id == client_id, Checkpoint.integration_id == integration_id
        )
    ).all()
    return {scope: state for scope, state in rows}


def start_run(
    session: Session,
    client_id: int,
    job_id: int,
    trigger: Trigger,
    started_at: datetime,
    checkpoint_before: dict[str, Any],
) -> int:
    run = JobRun(
        client_id=client_id,
        job_id=job_id,
        trigger=trigger,
        status=RunStatus.RUNNING,
        started_at=started_at,
        checkpoint_before=checkpoint_before,
    )
    session.add(run)
    session.flush()
    return run.id


def finish_run(
    session: Session, run_id: int, status: RunStatus, finished_at: datetime, **fields: Any
) -> None:
    session.execute(
        update(JobRun)
        .where(JobRun.id == run_id)
        .values(status=status, finished_at=finished_at, **fields)
    )


def close_open_runs(
    session: Session, client_id: int, finished_at: datetime, error: str
) -> list[int]:
    """Mark runs left RUNNING by a process that died as INTERRUPTED; returns their ids."""
    ids = session.execute(
        update(JobRun)
        .where(JobRun.client_id == client_id, JobRun.status == RunStatus.RUNNING)
        .values(status=RunStatus.INTERRUPTED, finished_at=finished_at, error=error)
        .returning(JobRun.id)
    ).scalars()
    return list(ids)


def close_job_runs(session: Session, job_id: int, finished_at: datetime, error: str) -> list[int]:
    """Mark the job's runs left RUNNING (their task is gone) as INTERRUPTED; returns ids."""
    ids = session.execute(
        update(JobRun)
        .where(JobRun.job_id == job_id, JobRun.status == RunStatus.RUNNING)
        .values(status=RunStatus.INTERRUPTED, finished_at=finished_at, error=error)
        .returning(JobRun.id)
    ).scalars()
    return list(ids)
