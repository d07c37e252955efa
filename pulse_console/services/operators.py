"""Operators (PostgreSQL logins) and their roles and clients, for admins.

Clients are named here and resolved to ids inside the same transaction; every call
re-checks the current state (a login that vanished, a client that does not exist) and
answers one line through `LoginError`. PostgreSQL refuses what the caller may not do
(CREATEROLE, row-level security on `client_members`) whatever the console believes.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection

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


def add(
    database: Database,
    name: str,
    role: str,
    *,
    password: str | None = None,
    clients: Sequence[str] = (),
    all_clients: bool = False,
) -> None:
    with database.engine.begin() as conn:
        ids = _client_ids(conn, clients)
        logins.create(conn, name, role, password=password, clients=ids, all_clients=all_clients)


def list_all(database: Database) -> list[Login]:
    with database.engine.connect() as conn:
        return logins.list_logins(conn)


def set_role(database: Database, name: str, role: str) -> None:
    with database.engine.begin() as conn:
        logins.set_role(conn, name, role)


def grant(database: Database, name: str, clients: Sequence[str]) -> None:
    with database.engine.begin() as conn:
        for client_id in _client_ids(conn, clients):
            logins.grant_client(conn, name, client_id)


def revoke(database: Database, name: str, clients: Sequence[str]) -> None:
    with database.engine.begin() as conn:
        for client, client_id in zip(clients, _client_ids(conn, clients), strict=True):
            if not logins.revoke_client(conn, name, client_id):
                raise LoginError(f"{name!r} is not a member of client {client!r}")


def remove(database: Database, name: str) -> None:
    with database.engine.begin() as conn:
        logins.remove(conn, name)
