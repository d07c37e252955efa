"""Engine and session factory: an external PostgreSQL 13+ by URL, else the embedded one.

Storage knows nothing of the application's config: callers pass the URL (or None) and the
data directory.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import errors, sql
from sqlalchemy import Connection, Engine, create_engine, event, make_url, text
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session, sessionmaker

from storage import audit_context as _audit_context  # noqa: F401  (tags sessions for audit)
from storage.embedded import start_embedded

EMBEDDED_DATABASE = "pulse"
MIN_SERVER_VERSION = 130000


class DatabaseError(Exception):
    """The database cannot be used; `str()` is the operator-facing reason."""


class ActingRoleGone(DatabaseError):
    """The role a `Database.acting_as` view acts as no longer exists (a revoked token)."""


def normalize_url(url: str) -> URL:
    """Accept postgres://, postgresql:// and postgresql+psycopg:// alike (psycopg 3 driver)."""
    parsed = make_url(url.replace("postgres://", "postgresql://", 1))
    if parsed.get_backend_name() != "postgresql":
        raise DatabaseError(f"not a PostgreSQL URL: {parsed.render_as_string(hide_password=True)}")
    return parsed.set(drivername="postgresql+psycopg")


def make_engine(url: str | URL, *, schema: str | None = None, pool_size: int = 5) -> Engine:
    """An engine; `schema` pins search_path (tests run each in its own schema)."""
    connect_args: dict[str, object] = {"connect_timeout": 10}
    if schema:
        connect_args["options"] = f"-csearch_path={schema}"
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=5,
        pool_pre_ping=True,
        connect_args=connect_args,
    )


@dataclass
class Database:
    """An open database: the engine, a session factory and where it came from."""

    engine: Engine
    embedded: bool
    sessions: sessionmaker[Session] = field(init=False)

    def __post_init__(self) -> None:
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def display_url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    @property
    def label(self) -> str:
        """Short description for headers: `embedded (…/pgdata)` or `host:port/db`."""
        url = self.engine.url
        if self.embedded:
            return f"embedded · {url.database}"
        host = url.host or url.query.get("host", "local socket")
        port = f":{url.port}" if url.port else ""
        return f"{host}{port}/{url.database}"

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session whose transaction commits on success and rolls back on error."""
        with self.sessions.begin() as session:
            yield session

    def acting_as(self, role: str) -> Database:
        """The same database and pool, every transaction run as `role` (`SET LOCAL ROLE`):
        PostgreSQL's GRANTs and row-level security judge `role`, which the login must be a
        member of. Work through `.engine` and `.session()` alike; LISTEN connections
        (`raw_connection`) are not covered."""
        acting = self.engine.execution_options()  # shares the pool; its events are its own
        statement = sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(role))

        @event.listens_for(acting, "begin")
        def take_role(conn: Connection) -> None:
            # On the driver's connection: its implicit BEGIN opens the very transaction
            # SQLAlchemy is beginning, and SET LOCAL ends with it (commit or rollback).
            raw = conn.connection.driver_connection
            assert raw is not None
            try:
                raw.execute(statement)
            except errors.InvalidParameterValue:
                raise ActingRoleGone(f"role {role} no longer exists") from None

        return Database(engine=acting, embedded=self.embedded)

    def dispose(self) -> None:
        self.engine.dispose()


def open_database(
    database_url: str | None, data_dir: Path, *, upgrade_embedded: bool = True
) -> Database:
    """Connect, check the server, and make sure the schema is usable.

    The embedded database is upgraded automatically; an external one that is behind is
    refused with `migrate.SchemaBehind` (its owner decides when to migrate).
    """
    embedded = database_url is None
    url = embedded_url(data_dir) if embedded else normalize_url(database_url or "")
    engine = make_engine(url)
    check_server(engine)
    database = Database(engine=engine, embedded=embedded)
    if embedded and upgrade_embedded:
        from storage import migrate  # Alembic only where it migrates: not on every command

        migrate.upgrade(engine)
    return database


def embedded_url(data_dir: Path) -> URL:
    info = start_embedded(data_dir)
    admin = normalize_url(info.url)
    ensure_database(admin, EMBEDDED_DATABASE)
    return admin.set(database=EMBEDDED_DATABASE)


def ensure_database(admin_url: URL, name: str) -> None:
    """CREATE DATABASE if missing (outside a transaction, as PostgreSQL requires)."""
    conninfo = admin_url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def search_path_option(engine: Engine) -> str:
    """libpq `options` that give another client library the engine's search_path. libpq
    splits options at spaces, so the default `"$user", public` needs its space escaped."""
    with engine.connect() as conn:
        path = str(conn.execute(text("SHOW search_path")).scalar_one())
    escaped = path.replace("\\", "\\\\").replace(" ", "\\ ")
    return f"-csearch_path={escaped}"


def check_server(engine: Engine) -> None:
    """Fail with one clear line if the server is unreachable or too old."""
    try:
        with engine.connect() as conn:
            version = int(conn.execute(text("SHOW server_version_num")).scalar_one())
    except Exception as exc:
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        raise DatabaseError(
            f"cannot connect to {engine.url.render_as_string(hide_password=True)}: {reason}"
        ) from None
    if version < MIN_SERVER_VERSION:
        raise DatabaseError(f"PostgreSQL {version // 10000} is too old: 13 or newer is needed")
