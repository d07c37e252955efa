"""Clients (tenants): list, add, rename and remove — the admin's `client …` commands and the
console's client switcher.

Each change runs inside `acting(operation=…)`, so the database's audit trail (the `clients`
trigger, migration 0014) records it with the login, the operation and before/after. Every
change is re-checked against the current state when it is made: adding an existing client,
renaming to a taken name, or renaming/removing a client while a worker drives it is refused
with one line saying what to do (`ClientRefused`). Removal deletes through the one tenancy
path (`storage.tenancy.delete_client`), in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from pulse_console.engine.pool import client_driver
from pulse_console.inputs import check_name
from pulse_console.services.log_files import JOB_LOG_PREFIX
from storage.audit_context import acting
from storage.db import Database
from storage.identity import whoami
from storage.models import Client, Integration, Job, WorkItem
from storage.tenancy import (
    delete_client,
    ensure_client,
    lock_client_to_change,
    require_client,
)


class ClientRefused(ValueError):
    """A client change that is not allowed now; `str()` says why and what to do."""


@dataclass(frozen=True)
class ClientInfo:
    name: str
    display_name: str
    active: bool
    created_at: datetime
    integrations: int
    jobs: int


@dataclass(frozen=True)
class Removed:
    name: str
    integrations: int
    work_items: int


def list_clients(database: Database) -> list[ClientInfo]:
    """The clients the login may see (`storage.identity`: its memberships, or every client
    for the owner and `pulse_all_clients`), by name, with how much hangs off them."""
    integrations = (
        select(func.count())
        .where(Integration.client_id == Client.id)
        .correlate(Client)
        .scalar_subquery()
    )
    jobs = select(func.count()).where(Job.client_id == Client.id).correlate(Client)
    with database.session() as session:
        me = whoami(session.connection())
        query = select(Client, integrations, jobs.scalar_subquery()).order_by(Client.name)
        if not me.all_clients:
            query = query.where(Client.name.in_(me.clients))
        rows = session.execute(query).all()
        return [
            ClientInfo(
                c.name, c.display_name or c.name, c.active, c.created_at, int(n_int), int(n_jobs)
            )
            for c, n_int, n_jobs in rows
        ]


def add_client(
    database: Database, name: str, display_name: str | None = None, *, actor: str
) -> ClientInfo:
    check_name("client", name)
    with acting(operation="client add", actor=actor), database.session() as session:
        if session.execute(select(Client.id).where(Client.name == name)).first():
            raise ClientRefused(f"client {name!r} already exists (see `pulse-console client list`)")
        ensure_client(session, name, display_name)
    return next(c for c in list_clients(database) if c.name == name)


def rename_client(
    database: Database, name: str, new_name: str, *, actor: str, log_dir: Path
) -> None:
    """Rename `name` to `new_name` (its job logs move with it); refused while driven."""
    check_name("client", new_name)
    with acting(operation="client rename", actor=actor), database.session() as session:
        client_id = require_client(session, name)
        _refuse_unless_changeable(session, client_id, name, "rename")
        if session.execute(select(Client.id).where(Client.name == new_name)).first():
            raise ClientRefused(f"client {new_name!r} already exists: choose another name")
        _refuse_while_driven(database, client_id, name, "renamed")
        session.execute(
            update(Client)
            .where(Client.id == client_id)
            .values(
                name=new_name,
                display_name=func.nullif(func.coalesce(Client.display_name, name), name),
            )
        )
        _move_job_logs(log_dir, name, new_name)


def remove_client(database: Database, name: str, *, actor: str) -> Removed:
    """Delete the client and everything of it (one transaction); refused while driven."""
    with acting(operation="client remove", actor=actor), database.session() as session:
        client_id = require_client(session, name)
        _refuse_unless_changeable(session, client_id, name, "remove")
        _refuse_while_driven(database, client_id, name, "removed")
        counts = [
            session.execute(select(func.count()).where(model.client_id == client_id)).scalar_one()
            for model in (Integration, WorkItem)
        ]
        delete_client(session, client_id)
    return Removed(name, int(counts[0]), int(counts[1]))


def _refuse_unless_changeable(session: Session, client_id: int, name: str, what: str) -> None:
    if not lock_client_to_change(session, client_id):  # PostgreSQL hides it from this login
        raise ClientRefused(
            f"client {name!r} is not one of this login's clients: only an admin of it (or the "
            f"database's owner) may {what} it"
        )


def _refuse_while_driven(database: Database, client_id: int, name: str, what: str) -> None:
    leader = client_driver(database, client_id, name)
    if leader is not None:
        raise ClientRefused(
            f"client {name!r} is driven by {leader}: stop that worker (or console) before it "
            f"is {what}"
        )


def _move_job_logs(log_dir: Path, old: str, new: str) -> None:
    if not log_dir.is_dir():
        return
    stem = f"{JOB_LOG_PREFIX}{old}.jsonl"
    for path in log_dir.iterdir():
        if path.name == stem or path.name.startswith(stem + "."):
            path.rename(path.with_name(f"{JOB_LOG_PREFIX}{new}.jsonl{path.name[len(stem) :]}"))
