"""The pool's worker registry (`pool_workers`) and who drives a client now.

One row per worker process: its name, host, pid, concurrency, the sources (`queues`) and
clients it serves (NULL: all it may see), and its heartbeat. The engine's pool beats it;
`pulse-console workers` and the console's Workers view read it.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Connection, delete, func, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from storage.models import PoolWorker

# A worker named by --clients counts as the client's driver while it beat this recently.
DRIVER_SECONDS = 60

_RUNNING = text(
    "SELECT coalesce(r.worker, 'a queued run') FROM job_runs r"
    " WHERE r.client_id = :c AND r.status = 'RUNNING' LIMIT 1"
)
_NAMED = text(
    "SELECT name FROM pool_workers WHERE :n = ANY(clients)"
    " AND heartbeat >= now() - make_interval(secs => :s) LIMIT 1"
)


def register(
    session: Session,
    *,
    name: str,
    host: str,
    pid: int,
    concurrency: int,
    queues: list[str] | None,
    clients: list[str] | None,
) -> None:
    """The worker's row, new or started again under the same name."""
    values = {
        "name": name,
        "host": host,
        "pid": pid,
        "concurrency": concurrency,
        "queues": queues,
        "clients": clients,
    }
    session.execute(
        insert(PoolWorker)
        .values(**values)
        .on_conflict_do_update(
            index_elements=[PoolWorker.name],
            set_={**values, "started_at": func.now(), "heartbeat": func.now()},
        )
    )


def beat(session: Session, name: str, forget_after: float) -> None:
    """The worker's heartbeat; rows silent for `forget_after` seconds are removed."""
    session.execute(update(PoolWorker).where(PoolWorker.name == name).values(heartbeat=func.now()))
    forget = func.now() - timedelta(seconds=forget_after)
    session.execute(delete(PoolWorker).where(PoolWorker.heartbeat < forget))


def unregister(session: Session, name: str) -> None:
    session.execute(delete(PoolWorker).where(PoolWorker.name == name))


def client_driver(conn: Connection, client_id: int, client: str) -> str | None:
    """Who drives the client now: a worker executing one of its runs, or a live worker (a
    console's, or `worker --clients`) that names it; None when nobody does."""
    running = conn.execute(_RUNNING, {"c": client_id}).scalar()
    if running is not None:
        return str(running)
    named = conn.execute(_NAMED, {"n": client, "s": DRIVER_SECONDS}).scalar()
    return None if named is None else str(named)
