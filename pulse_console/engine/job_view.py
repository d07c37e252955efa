"""The job listing's read model and its one SQL text, with no SQLAlchemy in sight.

`JOBS_SQL` is the only statement that lists a client's jobs: `store.load_jobs` (the console,
`orchestrator status`, the policy) runs it through SQLAlchemy's driver connection and
`quick_listing` (the light path of `jobs list`) through psycopg alone, so both show the same
rows in the same order. Parameters are psycopg's (`%(name)s`): `client_id`, and `retired`
(true: also the jobs of deactivated integrations, which are out of the chain).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pulse_console.engine.states import JobStatus

STOPPED_BY_OPERATOR = "stopped by operator"
INTERRUPTED = "interrupted"

# A job is in its client's chain unless its integration is deactivated; the latest run's
# records are those of the run started last (ties: the higher id).
JOBS_SQL = """
SELECT j.id, j.name, j.status, j.position, j.retry_count, j.next_run_at, j.parked_until,
       j.status_reason, j.integration_id, j.last_run_at,
       (SELECT max(r.finished_at) FROM job_runs r WHERE r.job_id = j.id) AS last_finished_at,
       j.cancel_requested,
       (SELECT r.records FROM job_runs r WHERE r.job_id = j.id
         ORDER BY r.started_at DESC, r.id DESC LIMIT 1) AS last_records
FROM jobs j
WHERE j.client_id = %(client_id)s
  AND (%(retired)s OR NOT EXISTS (
        SELECT 1 FROM integrations i WHERE i.id = j.integration_id AND i.active IS FALSE))
ORDER BY j.position, j.name
"""


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


def jobs_params(client_id: int, *, retired: bool = False) -> dict[str, Any]:
    return {"client_id": client_id, "retired": retired}


def job_views(rows: Iterable[Sequence[Any]]) -> list[JobView]:
    """`JobView`s of `JOBS_SQL` rows (columns in the dataclass's field order)."""
    return [
        JobView(
            id=row[0],
            name=row[1],
            status=JobStatus(row[2]),
            position=row[3],
            retry_count=row[4],
            next_run_at=row[5],
            parked_until=row[6],
            status_reason=row[7],
            integration_id=row[8],
            last_run_at=row[9],
            last_finished_at=row[10],
            cancel_requested=row[11],
            last_records=row[12],
        )
        for row in rows
    ]


# True when `store.ensure_jobs` has something to do for the client: an active integration of a
# chained type (`order`, the chain's type order) without its job or off its chain position
# (10 times its rank by type, then name in code-point order, as Python sorts), or a deactivated
# integration whose job still waits in the chain. A reader that cannot write (the light
# listing) hands over to one that can when this says so.
JOBS_BEHIND_SQL = """
SELECT EXISTS (
  SELECT 1 FROM (
    SELECT i.active IS TRUE AS active, j.id AS job_id, j.status, j.position,
           10 * row_number() OVER (
             PARTITION BY i.active IS TRUE
             ORDER BY array_position(%(order)s::text[], i.type::text), i.name COLLATE "C"
           ) AS rank
    FROM integrations i
    LEFT JOIN jobs j ON j.client_id = i.client_id AND j.integration_id = i.id
    WHERE i.client_id = %(client_id)s AND i.type = ANY(%(order)s::text[])
  ) s
  WHERE (s.active AND (s.job_id IS NULL OR s.position <> s.rank))
     OR (NOT s.active AND s.status IN ('PENDING', 'FAILED'))
)
"""


# The pool workers that beat within %(stall)s seconds and serve %(client)s, oldest first
# (engine/pool.live_workers and the light `jobs list` alike).
LIVE_WORKERS_SQL = (
    "SELECT name FROM pool_workers "
    "WHERE heartbeat >= now() - make_interval(secs => %(stall)s) "
    "AND (clients IS NULL OR cardinality(clients) = 0 OR %(client)s = ANY(clients)) "
    "ORDER BY started_at, name"
)
