"""One orchestrator per client: a PostgreSQL session advisory lock, held on its own connection.

Whoever holds the lock (a worker, or a console in embedded mode) drives the client's jobs; the
others attach. When the holder dies its connection closes and PostgreSQL releases the lock at
once; a standby polling `pg_try_advisory_lock` every second takes over within about a second.
The holder's connection is named `pulse-orchestrator <name>` so `current_leader` can say who
drives a client.

Taking the lock also starts a new epoch (storage/fencing.py): `fence` is what every write made
on behalf of this leader's runs checks, so a holder that lost the lock without noticing
(its connection terminated mid-run) cannot write after the next leader took over.
"""

from __future__ import annotations

from typing import Any

from pulse_console.engine.lock_names import APP_PREFIX, LEADER_SQL, LOCK_CLASS, leader_name
from pulse_console.engine.notify import client_key, dedicated_connection
from storage.db import Database
from storage.fencing import Fence, take_epoch


class Leadership:
    def __init__(self, database: Database, client_id: int, name: str) -> None:
        self.database = database
        self.client_id = client_id
        self.name = name
        self.key = client_key(database, client_id)
        self._conn: Any = None
        self.held = False
        self.fence: Fence | None = None

    def try_acquire(self) -> bool:
        if self.held:
            return True
        if self._conn is None:
            self._conn = dedicated_connection(self.database, APP_PREFIX + self.name)
        row = self._conn.execute(
            "SELECT pg_try_advisory_lock(%s, %s)", (LOCK_CLASS, self.key)
        ).fetchone()
        self.held = bool(row and row[0])
        if self.held:
            with self.database.engine.begin() as conn:
                self.fence = take_epoch(conn, self.client_id, self.name)
        return self.held

    def alive(self) -> bool:
        """True while the lock's connection still answers (else leadership is lost)."""
        if not self.held or self._conn is None:
            return False
        try:
            self._conn.execute("SELECT 1")
            return True
        except Exception:
            self.held = False
            return False

    def release(self) -> None:
        if self._conn is not None:
            try:
                if self.held:
                    self._conn.execute("SELECT pg_advisory_unlock(%s, %s)", (LOCK_CLASS, self.key))
            finally:
                self._conn.close()
                self._conn = None
        self.held = False


def current_leader(database: Database, client_id: int) -> str | None:
    """The name of the process that drives the client, or None when nobody does."""
    key = client_key(database, client_id)
    with database.engine.connect() as conn:
        name = conn.exec_driver_sql(LEADER_SQL, {"c": LOCK_CLASS, "k": key}).scalar()
    return leader_name(name)
