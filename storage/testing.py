"""Finding a PostgreSQL for tests and benchmarks, and giving each test its own schema.

Order: `PULSE_TEST_DATABASE_URL`, else a server on 127.0.0.1:5432 (CI machines have one with
trust auth, user postgres, database test), else the embedded server in a scratch data dir.
"""

from __future__ import annotations

import atexit
import functools
import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from sqlalchemy import Connection, Engine, make_url, text
from sqlalchemy.exc import DBAPIError

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
                migrate.hold_migration_lock(conn)
                conn.exec_driver_sql(_schema_sql())
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            _drop_token_roles(conn, schema)
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


# Creating and dropping a migrated schema costs one to three seconds (hundreds of DDL
# statements); emptying one costs ~0.1 s. A test's schema is therefore emptied and handed to
# the next test, unless the test changed its definition (the fingerprint below differs).
_FINGERPRINT = """
SELECT md5(string_agg(x, '|' ORDER BY x)) FROM (
  SELECT 'r:' || c.relname || c.relkind::text || c.relrowsecurity::text
         || c.relforcerowsecurity::text || coalesce(c.relacl::text, '') AS x
    FROM pg_class c WHERE c.relnamespace = to_regnamespace(:s)
  UNION ALL
  SELECT 'a:' || c.relname || '.' || a.attname || a.atttypid::text || a.attnotnull::text
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
   WHERE c.relnamespace = to_regnamespace(:s) AND a.attnum > 0 AND NOT a.attisdropped
  UNION ALL
  SELECT 'f:' || p.proname || md5(p.prosrc) || coalesce(p.proacl::text, '')
    FROM pg_proc p WHERE p.pronamespace = to_regnamespace(:s)
  UNION ALL
  SELECT 't:' || t.tgname || t.tgenabled::text
    FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
   WHERE c.relnamespace = to_regnamespace(:s)
  UNION ALL
  SELECT 'p:' || c.relname || '.' || p.polname || coalesce(pg_get_expr(p.polqual, p.polrelid), '')
         || coalesce(pg_get_expr(p.polwithcheck, p.polrelid), '')
    FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid
   WHERE c.relnamespace = to_regnamespace(:s)
  UNION ALL
  SELECT 'k:' || conname || contype::text
    FROM pg_constraint WHERE connamespace = to_regnamespace(:s)
) AS parts
"""

_free: dict[str, list[tuple[str, str]]] = {}  # server url -> (schema, fingerprint) ready to use


def _fingerprint(conn: Connection, schema: str) -> str:
    return str(conn.execute(text(_FINGERPRINT), {"s": schema}).scalar_one())


def _empty(conn: Connection, schema: str) -> None:
    """Delete every row but the migration stamp and restart every sequence; triggers (audit,
    foreign keys) are off meanwhile, so the order of the deletes does not matter."""
    conn.execute(text("SET LOCAL session_replication_role = replica"))
    conn.execute(text("SET LOCAL lock_timeout = '10s'"))
    tables = conn.execute(
        text(
            "SELECT tablename FROM pg_tables"
            " WHERE schemaname = :s AND tablename <> 'alembic_version'"
        ),
        {"s": schema},
    ).scalars()
    for table in list(tables):
        conn.exec_driver_sql(f'DELETE FROM "{schema}"."{table}"')
    conn.execute(
        text(
            "SELECT setval(format('%I.%I', schemaname, sequencename), 1, false)"
            " FROM pg_sequences WHERE schemaname = :s"
        ),
        {"s": schema},
    )


@contextmanager
def reused_schema(url: str) -> Iterator[Engine]:
    """Like `scratch_schema(url)` (a migrated schema no one else uses, with no rows), but the
    schema is emptied and kept for the next caller afterwards instead of dropped; dropped
    when the test changed its definition or it cannot be emptied. For test suites."""
    free = _free.setdefault(url, [])
    admin = make_engine(url, pool_size=1)
    try:
        if free:
            schema, print_ = free.pop()
        else:
            schema = f"t_{uuid.uuid4().hex[:12]}"
            with admin.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA "{schema}"'))
                conn.execute(text(f'SET LOCAL search_path = "{schema}"'))
                conn.exec_driver_sql(_schema_sql())
                print_ = _fingerprint(conn, schema)
        engine = make_engine(url, schema=schema, pool_size=2)
        try:
            yield engine
        finally:
            engine.dispose()
            if not _recycle(admin, schema, print_):
                with admin.begin() as conn:
                    _drop_token_roles(conn, schema)
                    conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            else:
                free.append((schema, print_))
    finally:
        admin.dispose()


def _recycle(admin: Engine, schema: str, print_: str) -> bool:
    try:
        with admin.begin() as conn:
            if _fingerprint(conn, schema) != print_:
                return False
            _drop_token_roles(conn, schema)
            _empty(conn, schema)
        return True
    except DBAPIError:  # not a superuser (session_replication_role), a lock held too long
        return False


@atexit.register
def _drop_free_schemas() -> None:
    for url, schemas in _free.items():
        if not schemas:
            continue
        admin = make_engine(url, pool_size=1)
        try:
            with admin.begin() as conn:
                for schema, _ in schemas:
                    conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        except DBAPIError:
            pass  # the server is gone: nothing left to tidy
        finally:
            admin.dispose()
        schemas.clear()


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
