"""The read model of the pool: its workers, their heartbeats and the runs they hold.

What `pulse-console workers` prints and the console's Workers view shows. A worker is listed
while its heartbeat is younger than `stall_seconds` times four (a stalled one shows as
such); its runs are the RUNNING `job_runs` it executes that the login may see (row-level
security hides other clients' runs).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text

from storage.db import Database

_WORKERS_SQL = text(
    "SELECT w.name, w.host, w.pid, w.concurrency, w.queues, w.clients, w.started_at,"
    " w.heartbeat, now() - w.heartbeat > make_interval(secs => :stall) AS stalled"
    " FROM pool_workers w ORDER BY w.started_at, w.name"
)
_RUNS_SQL = text(
    "SELECT r.worker, c.name AS client, j.name AS job, r.id, r.started_at"
    " FROM job_runs r JOIN jobs j ON j.id = r.job_id JOIN clients c ON c.id = r.client_id"
    " WHERE r.status = 'RUNNING' AND r.worker IS NOT NULL ORDER BY r.started_at"
)


@dataclass(frozen=True)
class WorkerRun:
    client: str
    job: str
    run_id: int
    started_at: datetime


@dataclass(frozen=True)
class WorkerView:
    name: str
    host: str
    pid: int
    concurrency: int
    queues: list[str] | None
    clients: list[str] | None
    started_at: datetime
    heartbeat: datetime
    stalled: bool
    runs: list[WorkerRun]

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "host": self.host,
            "pid": self.pid,
            "concurrency": self.concurrency,
            "queues": self.queues,
            "clients": self.clients,
            "started_at": self.started_at.isoformat(),
            "heartbeat": self.heartbeat.isoformat(),
            "stalled": self.stalled,
            "runs": [
                {
                    "client": r.client,
                    "job": r.job,
                    "run_id": r.run_id,
                    "started_at": r.started_at.isoformat(),
                }
                for r in self.runs
            ],
        }


def list_workers(database: Database, stall_seconds: float) -> list[WorkerView]:
    with database.engine.connect() as conn:
        workers = conn.execute(_WORKERS_SQL, {"stall": stall_seconds}).all()
        runs = conn.execute(_RUNS_SQL).all()
    held: dict[str, list[WorkerRun]] = {}
    for run in runs:
        held.setdefault(run.worker, []).append(
            WorkerRun(run.client, run.job, int(run.id), run.started_at)
        )
    return [
        WorkerView(
            name=w.name,
            host=w.host,
            pid=int(w.pid),
            concurrency=int(w.concurrency),
            queues=w.queues,
            clients=w.clients,
            started_at=w.started_at,
            heartbeat=w.heartbeat,
            stalled=bool(w.stalled),
            runs=held.get(w.name, []),
        )
        for w in workers
    ]
