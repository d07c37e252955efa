"""Operator controls: the vocabulary, when each is refused, their answers, and the control
table that carries them across processes.

`Control` names every job and orchestrator control once; its value is the orchestrator's
method, the `control_commands.action` and the console's key-binding argument. `why_not` holds
the refusal rules and their wording: the orchestrator refuses with it, and the Jobs screen,
the command palette and the CLI ask it before sending (they never re-derive the rules).

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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from pulse_console.engine.states import JobStatus
from pulse_console.engine.store import JobView, unknown_job
from storage.db import Database
from storage.models import ControlCommand

SET_SETTING = "set_setting"  # a control-table action that is not a `Control` (it has args)


class Control(StrEnum):
    """A job or orchestrator control; the value is the `Orchestrator` method that does it."""

    START = "start"
    STOP = "stop"
    PAUSE = "pause"
    RESUME = "resume"
    SET_ACTIVE = "set_active"
    ORCHESTRATOR_TICK = "orchestrator_tick"  # start the chain now (CLI: `orchestrator start`)
    ORCHESTRATOR_PAUSE = "orchestrator_pause"
    ORCHESTRATOR_RESUME = "orchestrator_resume"

    @property
    def needs_job(self) -> bool:
        return not self.value.startswith("orchestrator_")

    @property
    def words(self) -> str:
        """How an operator reads it: "set active", "orchestrator tick"."""
        return self.value.replace("_", " ")

    @property
    def verb(self) -> str:
        """The CLI word: `jobs set-active JOB`, `orchestrator start`."""
        word = self.value.removeprefix("orchestrator_").replace("_", "-")
        return "start" if self is Control.ORCHESTRATOR_TICK else word

    @property
    def audit_action(self) -> str:
        """The audit-log action: job.start, orchestrator.tick."""
        return f"job.{self.value}" if self.needs_job else self.value.replace("_", ".", 1)


def missing_job(control: Control, job: str | None) -> str | None:
    """The one refusal that needs no state: a job control without a job."""
    if control.needs_job and not job:
        return f"{control.words} needs a job: name or select one"
    return None


def why_not(
    control: Control,
    job: str | None,
    jobs: Iterable[JobView],
    *,
    paused: bool,
    pending: Mapping[str, str] | None = None,
    seen: str | None = None,
) -> str | None:
    """Why `control` of `job` is refused given the client's jobs and the orchestrator's pause
    (and, in the orchestrator, the stop/pause requests still pending); None when allowed.

    One job runs at a time per client; a PAUSED job only leaves PAUSED by resume; a FINISHED
    job has nothing to pause. `seen` is the status the operator saw when asked to confirm: a
    confirmation given for another state is refused, so it never acts on a changed job.
    """
    missing = missing_job(control, job)
    if missing:
        return missing
    views = list(jobs)
    running = next((j.name for j in views if j.status == JobStatus.RUNNING), None)
    if not control.needs_job:
        return _orchestrator_refusal(control, views, running, paused)
    assert job is not None
    if pending and job in pending:
        return f"a {pending[job]} of {job} is already pending"
    view = next((j for j in views if j.name == job), None)
    if view is None:
        return unknown_job(job, [j.name for j in views])
    status = view.status
    if seen is not None and status != seen:
        return f"{job} is now {status} (it was {seen} when you were asked): nothing was done"
    if control in (Control.START, Control.RESUME, Control.SET_ACTIVE) and running:
        if running == job:
            return f"{job} is already running"
        return (
            f"{running} is running (one job runs at a time per client): try again when it "
            "ends, or stop it first"
        )
    if control is Control.START and status == JobStatus.PAUSED:
        return f"{job} is PAUSED: resume it instead of starting it"
    if control is Control.RESUME and status != JobStatus.PAUSED:
        return f"{job} is {status}, not PAUSED: nothing to resume"
    if control is Control.SET_ACTIVE and status == JobStatus.PAUSED:
        return f"{job} is PAUSED: resume it first"
    if control is Control.STOP and status != JobStatus.RUNNING:
        return f"{job} is {status}, not running"
    if control is Control.PAUSE and status == JobStatus.PAUSED:
        return f"{job} is already PAUSED"
    if control is Control.PAUSE and status == JobStatus.FINISHED:
        return f"{job} is FINISHED: nothing to pause (it waits for its turn in the chain)"
    return None


def _orchestrator_refusal(
    control: Control, jobs: list[JobView], running: str | None, paused: bool
) -> str | None:
    if control is Control.ORCHESTRATOR_PAUSE and paused:
        return "the orchestrator is already paused"
    if control is Control.ORCHESTRATOR_RESUME and not paused:
        return "the orchestrator is already running"
    if control is Control.ORCHESTRATOR_TICK:
        if paused:
            return "the orchestrator is paused: resume it first"
        if running:
            return f"{running} is running: the chain is already going"
        if all(j.status == JobStatus.PAUSED for j in jobs):
            return "no job to start (none exist, or all are PAUSED)"
    return None


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
