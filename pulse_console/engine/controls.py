"""Operator controls: their answers, and the control table that carries them across processes.

`ControlResult` is what every control returns, in embedded and attached mode alike: `ok`
(done), `refused` (not allowed now; the message says why and what to do), or neither (it
failed, e.g. no worker answered). The CLI maps them to exit codes 0, 2 and 1.

Attached mode writes a `control_commands` row and NOTIFYs the worker that drives the client;
the worker claims pending rows, executes them and writes the answer. A partial unique index
allows one pending command per (client, job): a second request while one is pending is
answered "already pending" instead of being queued twice. Orchestrator-wide commands use
job NULL. A command nobody answered within the caller's timeout is marked `expired`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from storage.db import Database
from storage.models import ControlCommand

JOB_ACTIONS = ("start", "stop", "pause", "resume", "set_active")
ORCHESTRATOR_ACTIONS = ("orchestrator_start", "orchestrator_pause", "orchestrator_resume")
ACTIONS = (*JOB_ACTIONS, *ORCHESTRATOR_ACTIONS, "set_setting")


@dataclass(frozen=True)
class ControlResult:
    ok: bool
    message: str
    refused: bool = False

    @classmethod
    def done(cls, message: str) -> ControlResult:
        return cls(True, message)

    @classmethod
    def refuse(cls, message: str) -> ControlResult:
        return cls(False, message, refused=True)

    @classmethod
    def fail(cls, message: str) -> ControlResult:
        return cls(False, message)

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 2 if self.refused else 1


@dataclass(frozen=True)
class PendingCommand:
    id: int
    job: str | None
    action: str
    args: dict[str, Any]
    requested_by: str


def submit(
    session: Session,
    client_id: int,
    action: str,
    job: str | None,
    *,
    actor: str,
    args: dict[str, Any] | None = None,
) -> tuple[int, bool]:
    """Queue a command; returns (id, True) or (id of the one already pending, False)."""
    stmt = (
        insert(ControlCommand)
        .values(client_id=client_id, job=job, action=action, args=args or {}, requested_by=actor)
        .on_conflict_do_nothing(
            index_elements=[ControlCommand.client_id, text("coalesce(job, '')")],
            index_where=text("status = 'pending'"),
        )
        .returning(ControlCommand.id)
    )
    new_id = session.execute(stmt).scalar()
    if new_id is not None:
        return int(new_id), True
    pending = session.execute(
        select(ControlCommand.id).where(
            ControlCommand.client_id == client_id,
            func.coalesce(ControlCommand.job, "") == (job or ""),
            ControlCommand.status == "pending",
        )
    ).scalar()
    return int(pending or 0), False


def claim(session: Session, client_id: int) -> list[PendingCommand]:
    """Pending commands of a client, oldest first, locked for this transaction."""
    rows = session.execute(
        select(ControlCommand)
        .where(ControlCommand.client_id == client_id, ControlCommand.status == "pending")
        .order_by(ControlCommand.id)
        .with_for_update(skip_locked=True)
    ).scalars()
    return [PendingCommand(r.id, r.job, r.action, dict(r.args), r.requested_by) for r in rows]


def answer(session: Session, command_id: int, result: ControlResult) -> None:
    session.execute(
        update(ControlCommand)
        .where(ControlCommand.id == command_id)
        .values(
            status="done" if result.ok else "refused" if result.refused else "failed",
            ok=result.ok,
            result=result.message,
            handled_at=func.now(),
        )
    )


def wait_for_answer(
    database: Database, command_id: int, *, timeout: float, poll: float = 0.05
) -> ControlResult | None:
    """The answer to a command, or None (and the command expired) after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        with database.session() as session:
            row = session.execute(
                select(ControlCommand.status, ControlCommand.ok, ControlCommand.result).where(
                    ControlCommand.id == command_id
                )
            ).one_or_none()
            if row is not None and row.status != "pending":
                if row.ok:
                    return ControlResult.done(row.result or "")
                if row.status == "refused":
                    return ControlResult.refuse(row.result or "")
                return ControlResult.fail(row.result or row.status)
            if time.monotonic() >= deadline:
                session.execute(
                    update(ControlCommand)
                    .where(ControlCommand.id == command_id, ControlCommand.status == "pending")
                    .values(status="expired", handled_at=func.now())
                )
                return None
        time.sleep(poll)
