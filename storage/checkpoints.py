"""Pipeline checkpoints, read and written inside the caller's transaction.

A pipeline writes its checkpoint in the same transaction as the rows it covers, so after a
crash the stored checkpoint always describes exactly the rows that were committed.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, delete, func, select
from sqlalchemy.dialects.postgresql import insert

from storage.models import Checkpoint


def load_checkpoint(
    conn: Connection, client_id: int, integration_id: int, scope: str
) -> dict[str, Any]:
    state = conn.execute(
        select(Checkpoint.state).where(
            Checkpoint.client_id == client_id,
            Checkpoint.integration_id == integration_id,
            Checkpoint.scope == scope,
        )
    ).scalar()
    return dict(state) if state else {}


def save_checkpoint(
    conn: Connection, client_id: int, integration_id: int, scope: str, state: dict[str, Any]
) -> None:
    stmt = insert(Checkpoint).values(
        client_id=client_id, integration_id=integration_id, scope=scope, state=state
    )
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[Checkpoint.client_id, Checkpoint.integration_id, Checkpoint.scope],
            set_={"state": stmt.excluded.state, "updated_at": func.now()},
        )
    )


def clear_checkpoints(conn: Connection, client_id: int, integration_id: int) -> None:
    conn.execute(
        delete(Checkpoint).where(
            Checkpoint.client_id == client_id, Checkpoint.integration_id == integration_id
        )
    )
