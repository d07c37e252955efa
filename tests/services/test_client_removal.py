"""Removing a client takes its API tokens' PostgreSQL roles with it (they are cluster-wide:
no cascade reaches them), as revoking one token drops its role."""

from __future__ import annotations

from sqlalchemy import select, text

from pulse_console.services import api_tokens, clients
from storage.db import Database
from storage.models import ApiToken
from storage.tenancy import ensure_client


def existing(database: Database, roles: list[str]) -> set[str]:
    with database.session() as session:
        found = session.execute(
            text("SELECT rolname FROM pg_roles WHERE rolname = ANY(:r)"), {"r": roles}
        ).scalars()
        return set(found)


def token_roles(database: Database, client: str) -> list[str]:
    with database.session() as session:
        return [
            str(role)
            for role in session.execute(
                select(ApiToken.db_role).where(ApiToken.name.like(f"{client}-%"))
            ).scalars()
        ]


def test_removing_a_client_drops_its_tokens_roles_and_leaves_the_others(
    database: Database,
) -> None:
    with database.session() as session:  # as this suite's admin login (not the owner)
        ensure_client(session, "acme")
        ensure_client(session, "globex")
    for client, role in (("acme", "viewer"), ("acme", "admin"), ("globex", "user")):
        api_tokens.create(database, client, role, name=f"{client}-{role}", actor="t")
    api_tokens.revoke(database, "acme", "acme-admin", actor="t")  # its role is gone already
    acme, globex = token_roles(database, "acme"), token_roles(database, "globex")
    assert existing(database, acme + globex) == {acme[0], *globex}

    clients.remove_client(database, "acme", actor="ops@host")

    assert existing(database, acme + globex) == set(globex)  # pg_roles: acme's are gone
    with database.session() as session:
        assert session.execute(select(ApiToken.name)).scalars().all() == ["globex-user"]
