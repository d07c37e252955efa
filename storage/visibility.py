"""Which clients the session's role may see: row-level security's own rule, in one place.

Migration 0013 (the acting role since 0021): a role sees its member clients
(`pulse_visible_client_ids()`), or every client as a member of `pulse_all_clients` or of the
tables' owner (the `pulse_all_rows` policy), whether or not the client has members yet. (The
`clients` table itself is readable by every login.) `storage.tenancy` (the API acting as a
token's role, a worker choosing what it serves) and `storage.identity` (the console header,
`whoami`) both answer with it.
"""

from __future__ import annotations

from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

MAY_SEE = (
    "(c.id = ANY (pulse_visible_client_ids())"
    " OR pg_has_role(current_user, 'pulse_all_clients', 'MEMBER')"
    " OR pg_has_role(current_user, (SELECT relowner FROM pg_class"
    "                               WHERE oid = 'clients'::regclass), 'MEMBER'))"
)
_VISIBLE_CLIENTS = text(f"SELECT c.id, c.name FROM clients c WHERE {MAY_SEE} ORDER BY c.id")


def visible_clients(conn: Session | Connection) -> list[tuple[int, str]]:
    """(id, name) of the clients whose rows the session's role may see and write, by id."""
    return [(int(i), str(n)) for i, n in conn.execute(_VISIBLE_CLIENTS).all()]
