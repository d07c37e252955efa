"""The audit trail: who (the PostgreSQL login) changed what, when, and before/after.

Two kinds of rows land in `audit_log`. The database's triggers (migration 0014) record every
row change of the configuration tables, whoever makes it, as `<table>.<insert|update|delete>`
with the changed columns before and after; a service that makes such a change tags it with
`note` (what the operator asked for, and the service's details), and the trigger's row
carries the tags, so one change is one row. The services record the operator's intents
that no table holds (`job.start`, `log_files.delete`, `logs.export`, …) with `record`, and
login changes with `record_login_change`. Either way the login is stamped by the database
from `session_user`; `actor` keeps the console's `operator@host`. `search` is the one query
behind the console's Audit screen and `pulse-console audit`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, and_, or_, select, text
from sqlalchemy.orm import Session

from pulse_console.services.log_search import contains
from storage import audit_context
from storage.db import Database
from storage.models import AuditLog, Client
from storage.tenancy import find_client

# The tables whose row changes the database records (migration 0014's triggers).
AUDITED_TABLES = frozenset(
    {
        "clients",
        "settings",
        "integrations",
        "flow_steps",
        "status_mappings",
        "issue_type_mappings",
        "secrets",
    }
)


_IDS = frozenset({"id", "client_id"})  # left out of a created or deleted row's summary


@dataclass(frozen=True)
class AuditEntry:
    ts: datetime
    actor: str
    action: str
    target: str | None
    details: dict[str, Any]
    login: str | None = None
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    client: str | None = None
    id: int = 0

    @property
    def operation(self) -> str | None:
        """What the operator asked for (`flow.status.map`), when a service said so."""
        value = self.details.get("operation")
        return value if isinstance(value, str) else None

    @property
    def is_row_change(self) -> bool:
        """Written by a table's trigger (not by a service recording an intent)."""
        table, _, change = self.action.partition(".")
        return table in AUDITED_TABLES and change in ("insert", "update", "delete")

    def change_summary(self) -> str:
        """What changed, in one line: `key: before → after` for an update (or a control),
        `new: key=value, …` for a created row, `removed: key=value, …` for a deleted one
        (ids left out); values shortened."""
        before, after = self.before or {}, self.after or {}
        if (self.before is None) != (self.after is None):
            row, word = (after, "new") if self.before is None else (before, "removed")
            shown = [f"{key}={_short(value)}" for key, value in row.items() if key not in _IDS]
            return f"{word}: {', '.join(shown)}" if shown else ""
        keys = list(dict.fromkeys([*before, *after]))
        return "; ".join(
            f"{key}: {_short(before.get(key, '∅'))} → {_short(after.get(key, '∅'))}" for key in keys
        )

    def summary(self) -> str:
        """The change, or for an intent without before/after its details (`key=value, …`)."""
        if self.before is not None or self.after is not None:
            return self.change_summary()
        return ", ".join(f"{key}={_short(value)}" for key, value in self.details.items())

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "ts": self.ts.isoformat(),
            "login": self.login,
            "actor": self.actor,
            "client": self.client,
            "action": self.action,
            "target": self.target,
            "before": self.before,
            "after": self.after,
            "details": self.details,
        }


@dataclass(frozen=True)
class AuditQuery:
    """Filters of the trail; None/empty means no condition."""

    since: datetime | None = None
    until: datetime | None = None
    what: str = ""  # a substring of the action, operation or target (`integrations`, `jira`)
    who: str = ""  # a substring of the login or the actor
    limit: int = 500


def record(
    session: Session,
    client: str | None,
    actor: str,
    action: str,
    target: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Add one audit row inside the caller's transaction (so it commits with the change)."""
    # Looked up, never created: a user may write audit rows but not insert clients (and
    # INSERT … ON CONFLICT needs that right even when the client exists).
    client_id = find_client(session, client) if client else None
    session.add(
        AuditLog(
            client_id=client_id, actor=actor, action=action, target=target, details=details or {}
        )
    )


def note(session: Session, actor: str, action: str, details: dict[str, Any] | None = None) -> None:
    """Tag the caller's transaction, whose changes to audited tables the database records
    at commit: their rows carry `action` (as `details.operation`), `actor` and `details`.
    For a change a trigger records; `record` is for an intent no table holds."""
    audit_context.note(session.connection(), operation=action, actor=actor, details=details)


def record_login_change(
    conn: Connection,
    action: str,
    login: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    """One row for a change to a login (`user.add`, `user.grant`, …), with no client: a
    login is cluster-wide. Written by the database (migration 0018), stamped with the
    caller's login, whatever the caller may insert into `audit_log` itself."""
    conn.execute(
        text(
            "SELECT pulse_audit_login_change(:action, :login,"
            " CAST(:before AS jsonb), CAST(:after AS jsonb))"
        ),
        {
            "action": action,
            "login": login,
            "before": None if before is None else json.dumps(before),
            "after": None if after is None else json.dumps(after),
        },
    )


def recent(database: Database, client: str, limit: int = 100) -> list[AuditEntry]:
    """The newest audit rows of a client, newest first."""
    return search(database, client, AuditQuery(limit=limit))


def search(database: Database, client: str | None, query: AuditQuery) -> list[AuditEntry]:
    """Audit rows matching `query`, newest first: of `client` (and the login changes that
    name it in the login's clients before or after), or of every client (and the rows of
    none, e.g. a removed client's or a login's) when `client` is None."""
    with database.session() as session:
        stmt = _filtered(query)
        if client is not None:
            client_id = find_client(session, client)
            if client_id is None:
                return []
            # Login changes are global rows: a client's trail shows those naming it.
            named = {"clients": [client]}
            stmt = stmt.where(
                or_(
                    AuditLog.client_id == client_id,
                    and_(
                        AuditLog.client_id.is_(None),
                        AuditLog.action.startswith("user."),
                        or_(AuditLog.before.contains(named), AuditLog.after.contains(named)),
                    ),
                )
            )
        rows = session.execute(stmt).all()
        return [_entry(row.AuditLog, row.name) for row in rows]


def _filtered(query: AuditQuery) -> Select[AuditLog, str]:
    stmt = (
        select(AuditLog, Client.name)
        .outerjoin(Client, Client.id == AuditLog.client_id)
        .order_by(AuditLog.ts.desc(), AuditLog.id.desc())
        .limit(query.limit)
    )
    if query.since is not None:
        stmt = stmt.where(AuditLog.ts >= query.since)
    if query.until is not None:
        stmt = stmt.where(AuditLog.ts < query.until)
    if query.what:
        stmt = stmt.where(
            or_(
                contains(AuditLog.action, query.what),
                contains(AuditLog.target, query.what),
                contains(AuditLog.details["operation"].astext, query.what),
            )
        )
    if query.who:
        stmt = stmt.where(
            or_(contains(AuditLog.login, query.who), contains(AuditLog.actor, query.who))
        )
    return stmt


def _short(value: object, width: int = 40) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def _entry(row: AuditLog, client: str | None) -> AuditEntry:
    return AuditEntry(
        ts=row.ts,
        actor=row.actor,
        action=row.action,
        target=row.target,
        details=dict(row.details),
        login=row.login,
        before=None if row.before is None else dict(row.before),
        after=None if row.after is None else dict(row.after),
        client=client,
        id=row.id,
    )
