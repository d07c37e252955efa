"""The light path of `jobs list`: psycopg and the shared SQL texts, nothing heavier.

`jobs list` is the command operators run most; through the engine service it imports
SQLAlchemy, the models and the orchestrator (most of a second). `read_listing` answers the
same question with one connection and the statements the engine itself runs
(`job_view.JOBS_SQL`, `job_view.LIVE_WORKERS_SQL`), and answers None whenever the full path
has more to do or to say: the database does not answer or is too old, the client does not
exist, a table is missing, or an integration is waiting for its job (`JOBS_BEHIND_SQL`: only
the engine creates jobs). The caller then runs the full path, which reports or does it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import psycopg

from pulse_console.engine.job_view import (
    JOBS_BEHIND_SQL,
    JOBS_SQL,
    LIVE_WORKERS_SQL,
    JobView,
    job_views,
    jobs_params,
)

MIN_SERVER_VERSION = 130000  # as storage.db checks


@dataclass(frozen=True)
class Listing:
    client: str
    leader: str | None  # a pool worker that serves the client (None: nobody right now)
    jobs: list[JobView]


def read_listing(
    conninfo: str, client: str, order: Sequence[str], stall_seconds: float = 30.0
) -> Listing | None:
    """The client's jobs in chain order and who drives it, or None (use the full path)."""
    try:
        with psycopg.connect(conninfo, connect_timeout=10) as conn:
            if conn.info.server_version < MIN_SERVER_VERSION:
                return None
            row = conn.execute("SELECT id FROM clients WHERE name = %s", (client,)).fetchone()
            if row is None:
                return None
            client_id = int(row[0])
            behind = conn.execute(
                JOBS_BEHIND_SQL, {"client_id": client_id, "order": list(order)}
            ).fetchone()
            if behind is None or behind[0]:
                return None
            jobs = job_views(conn.execute(JOBS_SQL, jobs_params(client_id)).fetchall())
            holder = conn.execute(
                LIVE_WORKERS_SQL, {"stall": stall_seconds, "client": client}
            ).fetchone()
            return Listing(client, str(holder[0]) if holder else None, jobs)
    except (psycopg.Error, ValueError, OSError):  # the full path says what is wrong
        return None
