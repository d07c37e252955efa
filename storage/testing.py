"""Finding a PostgreSQL for tests and benchmarks, and giving each test its own schema.

Order: `PULSE_TEST_DATABASE_URL`, else a server on 127.0.0.1:5432 (CI machines have one with
trust auth, user postgres, database test), else the embedded server in a scratch data dir.
"""

from __future__ import annotations

import functools
import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from sqlalchemy import Connection, Engine, make_url, text

from storage import migrate
from storage.db import make_engine, normalize_url
from storage.embedded import start_embedded

LOCAL_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _refusal(url: str) -> str | None:
    """Why `url` cannot be used (its first line), or None when it answers."""
    conninfo = normalize_url(url).set(drivername="postgresql").render_as_string(False)
    try:
        with psycopg.connect(conninfo, connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


_passed_over: list[str] = []  # why find_test_server chose the embedded server


def fallback_note() -> str | None:
    """Said once find_test_server passed over 127.0.0.1:5432 (e.g. "too many clients"), so
    a suite never tests the embedded server instead of CI's silently."""
    return _passed_over[-1] if _passed_over else None


def find_test_server() -> str:
    explicit = os.environ.get("PULSE_TEST_DATABASE_URL")
    if explicit:
        return explicit
    why = _refusal(LOCAL_URL)
    if why is None:
        return LOCAL_URL
    local = make_url(LOCAL_URL)
    _passed_over.append(
        f"{local.host}:{local.port} did not answer ({why}): tests use the embedded server"
    )
    data_dir = Path(tempfile.gettempdir()) / "pulse-console-test-db"
    return start_embedded(data_dir).url


@functools.cache
def _schema_sql() -> str:
    # Rendering the migrations once and replaying the SQL is several times faster per test
    # than running Alembic online; test_migrations still exercises the online path.
    return migrate.upgrade_sql()


@contextmanager
def scratch_schema(url: str, *, migrated: bool = True) -> Iterator[Engine]:
    """An engine whose search_path is a fresh schema, dropped afterwards."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = make_engine(url, pool_size=1)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(url, schema=schema, pool_size=2)
    try:
        if migrated:
            with engine.begin() as conn:
                conn.exec_driver_sql(_schema_sql())
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            _drop_token_roles(conn, schema)
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _drop_token_roles(conn: Connection, schema: str) -> None:
    """API tokens' roles are the cluster's, not the schema's: drop those the schema made."""
    has_roles = conn.execute(
        text(
            "SELECT 1 FROM information_schema.columns WHERE table_schema = :s"
            " AND table_name = 'api_tokens' AND column_name = 'db_role'"
        ),
        {"s": schema},
    ).first()
    if has_roles:
        names = conn.execute(
            text(f'SELECT db_role FROM "{schema}".api_tokens WHERE db_role IS NOT NULL')
        ).scalars()
        for name in names:
            conn.exec_driver_sql(f'DROP ROLE IF EXISTS "{name}"')


def search_path_of(engine: Engine) -> str:
    """The schema `engine` works in (a `scratch_schema` engine's own)."""
    with engine.connect() as conn:
        return str(conn.execute(text("SELECT current_schema()")).scalar_one())


@contextmanager
def scratch_login(
    engine: Engine,
    role: str,
    *,
    clients: tuple[int, ...] = (),
    all_clients: bool = False,
    name: str | None = None,
    also: tuple[str, ...] = (),
) -> Iterator[Engine]:
    """An engine on `engine`'s schema, logged in as a new login with `role` and `clients`
    (created by `engine`'s owner, dropped afterwards; the test server trusts local logins);
    `also` names more groups (e.g. pulse_worker) the login joins."""
    from storage import logins

    name = name or f"t_{uuid.uuid4().hex[:10]}_{role}"
    with engine.begin() as conn:
        logins.create(conn, name, role, clients=clients, all_clients=all_clients)
        for group in also:
            conn.exec_driver_sql(f'GRANT "{group}" TO "{name}"')
    schema = search_path_of(engine)
    login = make_engine(engine.url.set(username=name, password=None), schema=schema, pool_size=2)
    try:
        yield login
    finally:
        login.dispose()
        drop_login(engine, name)


def drop_login(engine: Engine, name: str) -> None:
    """Drop a test login (its sessions first, so DROP ROLE never waits or fails)."""
    with engine.begin() as conn:
        conn.execute(
            text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = :n"),
            {"n": name},
        )
        conn.execute(text("DELETE FROM client_members WHERE role_name = :n"), {"n": name})
        conn.exec_driver_sql(f'DROP ROLE IF EXISTS "{name}"')


def login_url(url: str, engine: Engine) -> str:
    """`url` logged in as `engine`'s login (the owner, or a suite's non-owner login)."""
    login = make_url(url).set(username=engine.url.username, password=engine.url.password)
    return login.render_as_string(hide_password=False)


def schema_url(url: str, engine: Engine) -> str:
    """`url` pinned to `engine`'s schema and logged in as `engine`'s login (for a process of
    its own: the CLI, a worker; a non-owner login where the suite runs as one, so those
    processes run under row-level security too)."""
    with engine.connect() as conn:
        schema = conn.execute(text("SELECT current_schema()")).scalar_one()
    url = login_url(url, engine)
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options=-csearch_path%3D{schema}"


def seed_tenant(engine: Engine, *, client_id: int = 1, integration_id: int = 1) -> None:
    """A client `acme` with one Jira integration, the parents most test rows need."""
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO clients (id, name) VALUES (:c, 'acme')"), {"c": client_id})
        conn.execute(
            text(
                "INSERT INTO integrations (id, client_id, name, type, base_url)"
                " VALUES (:i, :c, 'jira', 'jira', 'https://acme.atlassian.net')"
            ),
            {"i": integration_id, "c": client_id},
        )
