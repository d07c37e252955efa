"""Names of a client's advisory lock, with no SQLAlchemy: who drives a client, in one place.

`leadership.py` takes the lock and `current_leader` reads its holder with `LEADER_SQL`;
`quick_listing` (the light `jobs list`) reads the same holder with the same text.
"""

from __future__ import annotations

import zlib

LOCK_CLASS = 0x50554C53  # "PULS": the advisory lock namespace of Pulse Console
APP_PREFIX = "pulse-orchestrator "

# The application name of the connection holding the client's lock (psycopg parameters).
LEADER_SQL = (
    "SELECT a.application_name FROM pg_locks l "
    "JOIN pg_stat_activity a ON a.pid = l.pid "
    "WHERE l.locktype = 'advisory' AND l.granted "
    "AND l.classid = %(c)s AND l.objid = %(k)s AND l.objsubid = 2"
)


def key_of(schema: str, client_id: int) -> int:
    """A positive 31-bit key for this (schema, client): lock id and channel suffix."""
    return zlib.crc32(f"{schema}:{client_id}".encode()) & 0x7FFFFFFF


def leader_name(application_name: object) -> str | None:
    """The holder's name from its connection's application name (None: nobody holds it)."""
    return None if application_name is None else str(application_name).removeprefix(APP_PREFIX)
