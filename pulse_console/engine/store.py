"""Persistence of jobs and job runs: every status change goes through `transition`.

All functions take the caller's session so a transition, its `job_runs` row and any other
change commit together. `transition` locks the job row (`FOR UPDATE`) and checks the state
machine before writing, so two processes can never apply conflicting changes.

Where jobs come from: one row per (client, job name). `ensure_jobs` creates the row of each
registered job whose integration type the client has (jira → jira_sync, github →
github_sync, …), at its chain position. A new job starts PENDING when nothing else of the
client is waiting or running, else FINISHED (it joins at the next cycle of the chain).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from pulse_console.engine.states import JobStatus, RunStatus, Trigger, check_transition

__all__ = ["Trigger"]
from storage.models import Checkpoint, Integration, Job, JobRun

STOPPED_BY_OPERATOR = "stopped by operator"
PAUSED_BY_OPERATOR = "paused by operator"
INTERRUPTED = "interrupted"
SPENT = "retries spent, the chain moved on"  # a FAILED job's reason: it runs next cycle


class UnknownJob(LookupError):
    """The client has no job of that name; `str()` lists the ones it has."""


@dataclass(frozen=True)
class JobView:
    """A job: what the policy decides on, and what the console and the CLI show."""

    id: int
    name: str
    status: JobStatus
    position: int
    retry_count: int
    next_run_at: datetime | None
    parked_until: datetime | None
    status_reason: str | None
    integration_id: int | None
    last_run_at: datetime | None
    last_finished_at: datetime | None
    cancel_requested: bool = False
    last_records: int | None = None  # records of its latest run (None: it never ran)

    def as_json(self) -> dict[str, Any]:
        """The `jobs list --json` shape (a public contract: keys and order are kept)."""
        fields = {
            "name": self.name,
            "status": str(self.status),
            "reason": self.status_reason,
            "retry_count": self.retry_count,
            "last_run_at": self.last_run_at,
            "next_run_at": self.next_run_at,
            "parked_until": self.parked_until,
            "cancel_requested": self.cancel_requested,
        }
        return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in fields.items()}

    @property
    def stopped_by_operator(self) -> bool:
        return self.status_reason == STOPPED_BY_OPERATOR

    @property
    def interrupted(self) -> bool:
        return (self.status_reason or "").startswith(INTERRUPTED)


def load_jobs(session: Session, client_id: int) -> list[JobView]:
    """The client's jobs in chain order, with the end time of each one's latest run and the
    records that run loaded."""
    last_finished = (
        select(func.max(JobRun.finished_at))
        .where(JobRun.job_id == Job.id)
        .correlate(Job)
        .scalar_subquery()
    )
    last_records = (
        select(JobRun.records)
        .where(JobRun.job_id == Job.id)
        .order_by(JobRun.started_at.desc(), JobRun.id.desc())
        .limit(1)
        .correlate(Job)
        .scalar_subquery()
    )
    rows = session.execute(
        select(Job, last_finished, last_records)
        .where(Job.client_id == client_id)
        .order_by(Job.position, Job.name)
    ).all()
    return [view(job, finished, records) for job, finished, records in rows]


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
            select(Job.name).where(Job.client_id == client_id).order_by(Job.position)
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


def ensure_jobs(session: Session, client_id: int, chain: dict[str, str]) -> list[str]:
    """Create the jobs of the client's active integrations; `chain` maps integration type →
    job name in chain order. Returns the names created."""
    created: list[str] = []
    integrations = session.execute(
        select(Integration.id, Integration.type)
        .where(Integration.client_id == client_id, Integration.active.is_(True))
        .order_by(Integration.id)
    ).all()
    order = list(chain)
    for integration_id, kind in integrations:
        if kind not in chain:
            continue
        position = (order.index(kind) + 1) * 10
        if ensure_job(
            session, client_id, chain[kind], position=position, integration_id=integration_id
        ):
            created.append(chain[kind])
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
