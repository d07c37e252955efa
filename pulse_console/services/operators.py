"""Operators (PostgreSQL logins) and their roles and clients, for admins.

Clients are named here and resolved to ids inside the same transaction; every call
re-checks the current state (a login that vanished, a client that does not exist) and
answers one line through `LoginError`. PostgreSQL refuses what the caller may not do
(CREATEROLE, row-level security on `client_members`) whatever the console believes.

Every change is audited in its own transaction: one row (`user.add`, `user.set_role`,
`user.grant`, `user.revoke`, `user.remove`) with the login as it was before and after
(role, clients, every client), written by the database (`audit.record_login_change`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict
from typing import Any

from sqlalchemy import Connection

from pulse_console.services import audit
from storage import logins
from storage.db import Database
from storage.logins import Login, LoginError
from storage.tenancy import UnknownClient

__all__ = ["Login", "LoginError", "add", "grant", "list_all", "remove", "revoke", "set_role"]


def _client_ids(conn: Connection, names: Sequence[str]) -> list[int]:
    from sqlalchemy import text

    ids = []
    for name in names:
        found = conn.execute(text("SELECT id FROM clients WHERE name = :n"), {"n": name}).scalar()
        if found is None:
            raise UnknownClient(name)
        ids.append(int(found))
    return ids


def _state(conn: Connection, name: str) -> dict[str, Any] | None:
    login = logins.find(conn, name)
    if login is None:
        return None
    state = asdict(login)
    del state["name"]
    state["clients"] = list(login.clients)
    return state


def _audited(
    database: Database, action: str, name: str, change: Callable[[Connection], Any]
) -> None:
    """Run `change` and record it with the login before and after, in one transaction."""
    with database.engine.begin() as conn:
        before = _state(conn, name)
        change(conn)
        audit.record_login_change(conn, action, name, before, _state(conn, name))


def add(
    database: Database,
    name: str,
    role: str,
    *,
    password: str | None = None,
    clients: Sequence[str] = (),
    all_clients: bool = False,
) -> None:
    def change(conn: Connection) -> None:
        ids = _client_ids(conn, clients)
        logins.create(conn, name, role, password=password, clients=ids, all_clients=all_clients)

    _audited(database, "user.add", name, change)


def list_all(database: Database) -> list[Login]:
    with database.engine.connect() as conn:
        return logins.list_logins(conn)


def set_role(database: Database, name: str, role: str) -> None:
    _audited(database, "user.set_role", name, lambda conn: logins.set_role(conn, name, role))


def grant(database: Database, name: str, clients: Sequence[str]) -> None:
    def change(conn: Connection) -> None:
        for client_id in _client_ids(conn, clients):
            logins.grant_client(conn, name, client_id)

    _audited(database, "user.grant", name, change)


def revoke(database: Database, name: str, clients: Sequence[str]) -> None:
    def change(conn: Connection) -> None:
        for client, client_id in zip(clients, _client_ids(conn, clients), strict=True):
            if not logins.revoke_client(conn, name, client_id):
                raise LoginError(f"{name!r} is not a member of client {client!r}")

    _audited(database, "user.revoke", name, change)


def remove(database: Database, name: str) -> None:
    _audited(database, "user.remove", name, lambda conn: logins.remove(conn, name))
