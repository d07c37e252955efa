"""Removing a client takes its API tokens' PostgreSQL roles with it (they are cluster-wide:
no cascade reaches them), as revoking one token drops its role; only a login that may see a
client may remove (or rename) it (migration 0024)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text

from pulse_console.services import api_tokens, clients
from storage.db import Database
from storage.models import ApiToken
from storage.tenancy import ensure_client
from storage.testing import scratch_login


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


@pytest.mark.owner  # (who makes the scratch login)
def test_an_admin_of_one_client_may_not_remove_or_rename_another(
    database: Database, engine: Engine, tmp_path: Path
) -> None:
    with database.session() as session:
        acme = ensure_client(session, "acme")
        ensure_client(session, "globex")
    api_tokens.create(database, "globex", "viewer", name="globex-viewer", actor="t")
    globex = token_roles(database, "globex")
    with scratch_login(engine, "admin", clients=(acme,)) as login:  # acme's admin only
        admin_of_acme = Database(engine=login, embedded=False)
        for change in (
            lambda: clients.remove_client(admin_of_acme, "globex", actor="a"),
            lambda: clients.rename_client(
                admin_of_acme, "globex", "x", actor="a", log_dir=tmp_path
            ),
        ):
            with pytest.raises(clients.ClientRefused, match="not one of this login's clients"):
                change()
        with login.begin() as conn:  # and PostgreSQL itself, past the service's check
            gone = conn.execute(text("DELETE FROM clients WHERE name = 'globex'"))
            assert gone.rowcount == 0
        clients.rename_client(admin_of_acme, "acme", "acme2", actor="a", log_dir=tmp_path)
    assert [c.name for c in clients.list_clients(database)] == ["acme2", "globex"]
    assert existing(database, globex) == set(globex)
