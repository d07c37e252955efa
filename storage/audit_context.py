"""Tagging database sessions with what they are doing, for the audit triggers (migration 0014).

    with acting(operation="client rename", actor="ana@host"):
        ...every session begun here carries the tags...

Inside `acting(...)`, every transaction a `Session` begins first sets, in one round trip,
transaction-local settings (`set_config(..., true)`) that the audit triggers read:
`pulse.operation` (what the operator asked for, shown in the trail's details), `pulse.actor`
(the console's `operator@host`, kept in `audit_log.actor`), `pulse.command_id` (the
control command a worker is applying) and `pulse.details` (a JSON object of what the service
knows about the change, merged into the row's details). `note(connection, …)` sets the same
tags on a transaction already begun: the triggers run at commit (migration 0018), so a
service may tag its change after making it, and the trigger's row is the change's only row.
A process that called `set_process_actor` (every
command and console, through `commands.database.open_configured`) sets `pulse.actor` once
per new connection instead, at no cost per transaction; `acting`'s actor overrides it.

The login itself is never taken from here: the database stamps `session_user`, and credits
a command's requester only to a `pulse_worker` session that names the command (see the
migration). The tags follow the calling thread's context
(`contextvars`), so a job run on another thread is never mistaken for the control that
started it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Connection, event, text
from sqlalchemy.orm import Session
from sqlalchemy.pool import Pool


@dataclass(frozen=True)
class Acting:
    operation: str | None = None
    actor: str | None = None
    command_id: int | None = None
    details: dict[str, Any] | None = None

    def settings(self) -> dict[str, str]:
        values = {
            "pulse.operation": self.operation,
            "pulse.actor": self.actor,
            "pulse.command_id": None if self.command_id is None else str(self.command_id),
            "pulse.details": None
            if self.details is None
            else json.dumps(self.details, default=str),
        }
        return {name: value for name, value in values.items() if value is not None}


_CURRENT: ContextVar[Acting | None] = ContextVar("pulse_acting", default=None)
_process_actor: str | None = None


def set_process_actor(actor: str | None) -> None:
    """Every connection this process opens from now on names `actor` (the operator@host of
    a console or command), so the trail names the operator of changes made on any thread."""
    global _process_actor
    _process_actor = actor


def current() -> Acting | None:
    """The tags of `acting(...)` in force here, if any."""
    return _CURRENT.get()


@contextmanager
def acting(
    *, operation: str | None = None, actor: str | None = None, command_id: int | None = None
) -> Iterator[Acting]:
    """Tag the sessions begun inside with these values (nested calls add to the outer ones)."""
    outer = _CURRENT.get() or Acting()
    tags = replace(
        outer,
        operation=operation or outer.operation,
        actor=actor or outer.actor,
        command_id=command_id if command_id is not None else outer.command_id,
    )
    token = _CURRENT.set(tags)
    try:
        yield tags
    finally:
        _CURRENT.reset(token)


@event.listens_for(Pool, "connect")
def _tag_connection(dbapi_connection: Any, record: Any) -> None:
    if _process_actor is None:
        return
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("SELECT set_config('pulse.actor', %s, false)", (_process_actor,))
    finally:
        cursor.close()
    dbapi_connection.commit()


@event.listens_for(Session, "after_begin")
def _tag_transaction(session: Session, transaction: Any, connection: Any) -> None:
    tags = _CURRENT.get()
    if tags is None:
        return
    _set_local(connection, tags)


def note(
    connection: Connection,
    *,
    operation: str,
    actor: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Tag the rest of `connection`'s transaction: its audited changes, recorded at commit,
    carry `operation`, `actor` and `details`. Inside `acting(operation=…)` the outer
    operation (what the operator asked for, e.g. a control) stays, and this one is kept
    in the details as `step`."""
    outer = _CURRENT.get() or Acting()
    if outer.operation and outer.operation != operation:
        details, operation = {**(details or {}), "step": operation}, outer.operation
    _set_local(
        connection,
        replace(outer, operation=operation, actor=actor or outer.actor, details=details),
    )


def _set_local(connection: Connection, tags: Acting) -> None:
    settings = tags.settings()
    if not settings:
        return
    # One round trip, whatever the number of tags.
    calls = ", ".join(f"set_config(:n{i}, :v{i}, true)" for i in range(len(settings)))
    params: dict[str, str] = {}
    for i, (name, value) in enumerate(settings.items()):
        params[f"n{i}"], params[f"v{i}"] = name, value
    connection.execute(text(f"SELECT {calls}"), params)
