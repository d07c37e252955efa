"""Tagging database sessions with what they are doing, for the audit triggers (migration 0014).

    with acting(operation="client rename", actor="ana@host"):
        ...every session begun here carries the tags...

Inside `acting(...)` (and, for the actor, in a process that called `set_process_actor`),
every transaction a `Session` begins first sets, in one round trip, transaction-local
settings (`set_config(..., true)`) that the audit triggers read: `pulse.operation` (what the
operator asked for, shown in the trail's details), `pulse.actor` (the console's
`operator@host`, kept in `audit_log.actor`) and `pulse.command_id` (the control command a
worker is applying). The login itself is never taken from here: the database stamps
`session_user`, and credits a command's requester only to a `pulse_worker` session that
names the command (see the migration). The tags follow the calling thread's context
(`contextvars`), so a job run on another thread is never mistaken for the control that
started it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.orm import Session


@dataclass(frozen=True)
class Acting:
    operation: str | None = None
    actor: str | None = None
    command_id: int | None = None

    def settings(self) -> dict[str, str]:
        values = {
            "pulse.operation": self.operation,
            "pulse.actor": self.actor,
            "pulse.command_id": None if self.command_id is None else str(self.command_id),
        }
        return {name: value for name, value in values.items() if value is not None}


_CURRENT: ContextVar[Acting | None] = ContextVar("pulse_acting", default=None)
_PROCESS = Acting()  # what every session of this process carries (`set_process_actor`)


def set_process_actor(actor: str | None) -> None:
    """Tag every session of this process with `actor` (the console's `operator@host`), so
    the trail names the operator of changes made on any thread; `acting` overrides it."""
    global _PROCESS
    _PROCESS = Acting(actor=actor)


def current() -> Acting:
    """The tags a session begun now carries: `acting(...)`'s over the process's."""
    tags = _CURRENT.get()
    if tags is None:
        return _PROCESS
    return replace(tags, actor=tags.actor or _PROCESS.actor)


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


@event.listens_for(Session, "after_begin")
def _tag_transaction(session: Session, transaction: Any, connection: Any) -> None:
    settings = current().settings()
    if not settings:
        return
    # One round trip, whatever the number of tags.
    calls = ", ".join(f"set_config(:n{i}, :v{i}, true)" for i in range(len(settings)))
    params: dict[str, str] = {}
    for i, (name, value) in enumerate(settings.items()):
        params[f"n{i}"], params[f"v{i}"] = name, value
    connection.execute(text(f"SELECT {calls}"), params)
