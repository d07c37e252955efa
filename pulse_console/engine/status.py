"""Read models of job state for the console and the CLI (the TUI never runs SQL itself)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from storage.db import Database
from storage.models import Client, Job


@dataclass(frozen=True)
class JobSummary:
    name: str
    status: str
    retry_count: int
    last_run_at: datetime | None
    next_run_at: datetime | None
    status_reason: str | None


def list_jobs(database: Database, client: str) -> list[JobSummary]:
    """The client's jobs in chain order (empty when the client does not exist yet)."""
    with database.session() as session:
        rows = session.execute(
            select(Job)
            .join(Client, Client.id == Job.client_id)
            .where(Client.name == client)
            .order_by(Job.position, Job.name)
        ).scalars()
        return [
            JobSummary(
                name=job.name,
                status=job.status,
                retry_count=job.retry_count,
                last_run_at=job.last_run_at,
                next_run_at=job.next_run_at,
                status_reason=job.status_reason,
            )
            for job in rows
        ]
