"""Per-source concurrency caps across the pool (`pool.source_limits`).

A run counts against its source's cap while it is RUNNING with a worker set on it. Taking a
slot is serialised per source by a transaction-level advisory lock, so two workers never
both take the last one.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

_SOURCE = text(
    "SELECT i.type FROM job_runs r JOIN jobs j ON j.id = r.job_id"
    " LEFT JOIN integrations i ON i.id = j.integration_id WHERE r.id = :r"
)
_BUSY = text(
    "SELECT count(*) FROM job_runs r JOIN jobs j ON j.id = r.job_id"
    " JOIN integrations i ON i.id = j.integration_id"
    " WHERE r.status = 'RUNNING' AND r.worker IS NOT NULL AND i.type = :s"
)


def run_source(session: Session, run_id: int) -> str | None:
    """The source (integration type) of the run's job; None for a job of no integration."""
    found = session.execute(_SOURCE, {"r": run_id}).scalar()
    return None if found is None else str(found)


def take_slot(session: Session, source: str, cap: int, run_id: int, worker: str) -> bool:
    """Give the run one of `source`'s `cap` slots (marking it `worker`'s) if one is free;
    the caller's transaction holds the source's lock until it commits."""
    session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:s))"), {"s": source})
    if session.execute(_BUSY, {"s": source}).scalar_one() >= cap:
        return False
    session.execute(
        text("UPDATE job_runs SET worker = :w WHERE id = :r AND worker IS NULL"),
        {"w": worker, "r": run_id},
    )
    return True
