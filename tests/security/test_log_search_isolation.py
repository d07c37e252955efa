"""Issue 14: the indexed log search (`pulse_log_matches`, migration 0017) runs as the schema's
owner, so it must apply the clients rule itself: a login reads through it exactly the rows
row-level security would show it, and never a row without a client."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import ProgrammingError

from storage.testing import scratch_login

PATTERN = "%timeout%"


@pytest.fixture
def logs_of_two_clients(engine: Engine) -> Engine:
    """Client 1 `acme` and client 2 `other` each log a timeout; so does nobody (no client)."""
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO clients (id, name) VALUES (1, 'acme'), (2, 'other')"))
        conn.execute(
            text(
                "INSERT INTO log_entries (client_id, ts, level, logger, message) VALUES"
                " (1, now(), 'ERROR', 't', 'acme: read timeout'),"
                " (2, now(), 'ERROR', 't', 'other: read Timeout'),"
                " (NULL, now(), 'ERROR', 't', 'nobody: connect timeout')"
            )
        )
    return engine


def _matches(engine: Engine, client: int | None) -> list[str]:
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT message FROM pulse_log_matches(:c, :p) ORDER BY message"),
            {"c": client, "p": PATTERN},
        )
        return [row.message for row in rows]


@pytest.fixture
def viewer_of_acme(logs_of_two_clients: Engine) -> Iterator[Engine]:
    with scratch_login(logs_of_two_clients, "viewer", clients=(1,)) as login:
        yield login


def test_a_login_finds_its_clients_rows_only(viewer_of_acme: Engine) -> None:
    assert _matches(viewer_of_acme, 1) == ["acme: read timeout"]
    assert _matches(viewer_of_acme, 2) == []  # another client's rows: as if there were none
    assert _matches(viewer_of_acme, None) == []  # rows without a client: never


def test_an_admin_of_one_client_is_held_to_it_too(logs_of_two_clients: Engine) -> None:
    with scratch_login(logs_of_two_clients, "admin", clients=(1,)) as admin:
        assert _matches(admin, 1) == ["acme: read timeout"]
        assert _matches(admin, 2) == []


def test_all_clients_and_the_owner_find_every_clients_rows(logs_of_two_clients: Engine) -> None:
    with scratch_login(logs_of_two_clients, "viewer", all_clients=True) as everyone:
        assert _matches(everyone, 2) == ["other: read Timeout"]
        assert _matches(everyone, None) == []
    assert _matches(logs_of_two_clients, 2) == ["other: read Timeout"]


def test_a_login_outside_the_product_roles_may_not_call_it(logs_of_two_clients: Engine) -> None:
    with scratch_login(logs_of_two_clients, "viewer", clients=(1,)) as login:
        name = login.url.username
        with logs_of_two_clients.begin() as conn:
            schema = conn.execute(text("SELECT current_schema()")).scalar_one()
            conn.exec_driver_sql(f'REVOKE pulse_viewer FROM "{name}"')
            # It still sees the schema: the refusal is the function's own grant.
            conn.exec_driver_sql(f'GRANT USAGE ON SCHEMA "{schema}" TO "{name}"')
        try:
            with pytest.raises(ProgrammingError, match="permission denied for function"):
                _matches(login, 1)
        finally:
            with logs_of_two_clients.begin() as conn:
                conn.exec_driver_sql(f'REVOKE USAGE ON SCHEMA "{schema}" FROM "{name}"')


def test_a_login_removed_from_a_client_loses_its_rows_at_once(
    logs_of_two_clients: Engine,
) -> None:
    with scratch_login(logs_of_two_clients, "viewer", clients=(1,)) as login:
        assert _matches(login, 1) == ["acme: read timeout"]
        with logs_of_two_clients.begin() as conn:
            conn.execute(
                text("DELETE FROM client_members WHERE role_name = :n"),
                {"n": login.url.username},
            )
        assert _matches(login, 1) == []
