"""Read model of past runs for the console and the CLI (the TUI never runs SQL itself).

Jobs are read by `store.load_jobs` (as `store.JobView`), through the service's `status()`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select

from storage.db import Database
from storage.models import Client, Job, JobRun


@dataclass(frozen=True)
class RunSummary:
    """One past run: the run history's row and its detail (checkpoints, stats) in one."""

    id: int
    job: str
    trigger: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    records: int
    api_calls: int
    error: str | None = None
    checkpoint_before: dict[str, Any] | None = None
    checkpoint_after: dict[str, Any] | None = None
    stats: dict[str, Any] = field(default_factory=dict)


def _summary(run: JobRun, job: str) -> RunSummary:
    return RunSummary(
        id=run.id,
        job=job,
        trigger=run.trigger,
        status=run.status,
        started_at=run.started_at,
        finished_at=run.finished_at,
        records=run.records,
        api_calls=run.api_calls,
        error=run.error,
        checkpoint_before=run.checkpoint_before,
        checkpoint_after=run.checkpoint_after,
        stats=dict(run.stats or {}),
    )


def list_runs(
    database: Database, client: str, job: str | None = None, limit: int = 200
) -> list[RunSummary]:
    """The client's past runs, newest first (`job` None = every job)."""
    query = (
        select(JobRun, Job.name)
        .join(Job, Job.id == JobRun.job_id)
        .join(Client, Client.id == JobRun.client_id)
        .where(Client.name == client)
        .order_by(JobRun.started_at.desc(), JobRun.id.desc())
        .limit(limit)
    )
    if job is not None:
        query = query.where(Job.name == job)
    with database.session() as session:
        return [_summary(run, name) for run, name in session.execute(query).all()]


def get_run(database: Database, client: str, run_id: int) -> RunSummary | None:
    """One run of the client, or None."""
    query = (
        select(JobRun, Job.name)
        .join(Job, Job.id == JobRun.job_id)
        .join(Client, Client.id == JobRun.client_id)
        .where(Client.name == client, JobRun.id == run_id)
    )
    with database.session() as session:
        row = session.execute(query).first()
        return None if row is None else _summary(row[0], row[1])
