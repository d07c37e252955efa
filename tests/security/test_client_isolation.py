"""Issue 14: clients are isolated by PostgreSQL itself (row-level security).

The client-scoped tables are read from the catalog, so a new table with `client_id` and
no policy fails here. A login that is a member of client A sees no row of client B in any
of them with a bare `SELECT *`, and cannot insert or move rows into client B.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import ProgrammingError

from storage.testing import scratch_login, seed_tenant

A, B = 1, 2


def client_tables(conn: Connection) -> list[str]:
    return list(
        conn.execute(
            text(
                "SELECT c.relname FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid"
                " WHERE c.relnamespace = current_schema()::regnamespace"
                " AND c.relkind IN ('r', 'p') AND a.attname = 'client_id' AND NOT a.attisdropped"
                " ORDER BY 1"
            )
        ).scalars()
    )


# Tables whose client_id is generated from another column: that column, and its value.
DERIVED_CLIENT = {"procrastinate_jobs": ("lock", "'client:{}'")}


def _fill_every_table(conn: Connection) -> None:
    """One row of client A and one of client B in every client table, whatever its columns:
    each table's NOT NULL columns without a default get a value of their type (foreign keys
    are not checked while filling: the rows need only exist)."""
    conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
    for table in client_tables(conn):
        columns = conn.execute(
            text(
                "SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.atttypid::regtype::text"
                " FROM pg_attribute a WHERE a.attrelid = CAST(:t AS regclass) AND a.attnum > 0"
                " AND NOT a.attisdropped AND a.attnotnull AND NOT a.atthasdef"
                " AND a.attname <> 'client_id'"
            ),
            {"t": table},
        ).all()
        given, value = DERIVED_CLIENT.get(table, ("client_id", "{}"))
        for client in (A, B):
            names = [given] + [c[0] for c in columns]
            values = [value.format(client)] + [_value(c[2], client, c[0]) for c in columns]
            conn.exec_driver_sql(
                f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join(values)})"
                " ON CONFLICT DO NOTHING"
            )


def _value(kind: str, client: int, column: str) -> str:
    if column.endswith("_id") or column in ("work_item_id", "id"):
        return str(client)  # the seeded integration/work item of that client
    return {
        "bigint": str(100 + client),
        "integer": str(client),
        "smallint": str(client),
        "boolean": "false",
        "jsonb": "'{}'",
        "bytea": "'\\x00'",
        "timestamp with time zone": "now()",
        "double precision": "0",
        "date": "current_date",
    }.get(kind, f"'{column}-{client}'")


@pytest.fixture
def two_clients(engine: Engine) -> Engine:
    seed_tenant(engine, client_id=A, integration_id=A)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO clients (id, name) VALUES (:b, 'beta')"), {"b": B})
        conn.execute(
            text(
                "INSERT INTO integrations (id, client_id, name, type, base_url)"
                " VALUES (:b, :b, 'jira', 'jira', 'https://beta.atlassian.net')"
            ),
            {"b": B},
        )
        for client in (A, B):
            conn.execute(
                text(
                    "INSERT INTO work_items (id, client_id, integration_id, source, external_id)"
                    " VALUES (:c, :c, :c, 'jira', :e)"
                ),
                {"c": client, "e": f"ext-{client}"},
            )
        _fill_every_table(conn)
    return engine


@pytest.fixture
def member_of_a(two_clients: Engine) -> Iterator[Engine]:
    with scratch_login(two_clients, "admin", clients=(A,)) as login:
        yield login


def test_every_client_table_has_row_level_security_enabled_and_forced(engine: Engine) -> None:
    with engine.connect() as conn:
        tables = client_tables(conn)
        flags = dict(
            conn.execute(
                text(
                    "SELECT relname, relrowsecurity AND relforcerowsecurity FROM pg_class"
                    " WHERE relnamespace = current_schema()::regnamespace"
                )
            ).all()
        )
        policies = set(
            conn.execute(
                text(
                    "SELECT c.relname FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid"
                    " WHERE p.polname = 'pulse_client_rows'"
                    " AND c.relnamespace = current_schema()::regnamespace"
                )
            ).scalars()
        )
    assert len(tables) > 30
    assert [t for t in tables if not flags[t]] == []
    assert [t for t in tables if t not in policies] == []


def test_a_member_of_client_a_sees_no_row_of_client_b_in_any_table(
    two_clients: Engine, member_of_a: Engine
) -> None:
    with two_clients.connect() as conn:
        tables = client_tables(conn)
        # The fixture really put client B's rows everywhere: the test can fail.
        assert [
            t
            for t in tables
            if not conn.execute(text(f"SELECT count(*) FROM {t} WHERE client_id = {B}")).scalar()
        ] == []
    with member_of_a.connect() as conn:
        leaks = {
            t: conn.execute(text(f"SELECT count(*) FROM {t} WHERE client_id = {B}")).scalar()
            for t in tables
        }
        seen_a = conn.execute(text("SELECT count(*) FROM work_items")).scalar()
        every = conn.execute(text("SELECT client_id FROM work_items")).scalars().all()
    assert {t: n for t, n in leaks.items() if n} == {}
    assert seen_a == 1 and every == [A]


def test_a_member_of_client_a_cannot_write_client_b_rows(
    two_clients: Engine, member_of_a: Engine
) -> None:
    with member_of_a.begin() as conn:
        moved = conn.execute(text(f"UPDATE work_items SET summary = 'x' WHERE client_id = {B}"))
        assert moved.rowcount == 0  # B's rows are invisible, so untouched
        gone = conn.execute(text(f"DELETE FROM jobs WHERE client_id = {B}"))
        assert gone.rowcount == 0
    refused = pytest.raises(ProgrammingError, match="row-level security")
    with refused, member_of_a.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO work_items (client_id, integration_id, source, external_id)"
                f" VALUES ({B}, {B}, 'jira', 'planted')"
            )
        )
    refused = pytest.raises(ProgrammingError, match="row-level security")
    with refused, member_of_a.begin() as conn:  # moving an own row into client B
        conn.execute(text(f"UPDATE work_items SET client_id = {B} WHERE client_id = {A}"))
    with two_clients.connect() as conn:
        assert (
            conn.execute(text(f"SELECT summary FROM work_items WHERE client_id = {B}")).scalar()
            != "x"
        )


def test_all_clients_members_see_every_client(two_clients: Engine) -> None:
    with (
        scratch_login(two_clients, "viewer", all_clients=True) as login,
        login.connect() as conn,
    ):
        clients = conn.execute(text("SELECT DISTINCT client_id FROM jobs ORDER BY 1"))
        assert clients.scalars().all() == [A, B]


def test_a_login_that_creates_a_client_becomes_its_member(engine: Engine) -> None:
    with scratch_login(engine, "admin") as login:
        with login.begin() as conn:
            new = conn.execute(text("INSERT INTO clients (name) VALUES ('gamma') RETURNING id"))
            client_id = new.scalar_one()
            conn.execute(
                text(
                    "INSERT INTO integrations (client_id, name, type, base_url)"
                    " VALUES (:c, 'gh', 'github', 'https://api.github.com')"
                ),
                {"c": client_id},
            )
        with login.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM integrations")).scalar() == 1
