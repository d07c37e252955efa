"""The audit trail: every destructive or configuration-changing console action leaves a row."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.db import Database
from storage.models import AuditLog
from storage.tenancy import ensure_client, find_client


@dataclass(frozen=True)
class AuditEntry:
    ts: datetime
    actor: str
    action: str
    target: str | None
    details: dict[str, Any]


def record(
    session: Session,
    client: str | None,
    actor: str,
    action: str,
    target: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Add one audit row inside the caller's transaction (so it commits with the change)."""
    client_id = ensure_client(session, client) if client else None
    session.add(
        AuditLog(
            client_id=client_id, actor=actor, action=action, target=target, details=details or {}
        )
    )


def recent(database: Database, client: str, limit: int = 100) -> list[AuditEntry]:
    """The newest audit rows of a client, newest first."""
    with database.session() as session:
        client_id = find_client(session, client)
        if client_id is None:
            return []
        rows = session.execute(
            select(AuditLog)
            .where(AuditLog.client_id == client_id)
            .order_by(AuditLog.ts.desc(), AuditLog.id.desc())
            .limit(limit)
        ).scalars()
        return [AuditEntry(r.ts, r.actor, r.action, r.target, dict(r.details)) for r in rows]
