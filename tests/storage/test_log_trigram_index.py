"""Migration 0004's trigram index: built where pg_trgm can be had, else skipped with a warning
while text search keeps working (by scanning). Real servers: the test one and the embedded."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine, insert, text

from pulse_console.services import logs
from pulse_console.services.logs import LogFilter
from storage import migrate
from storage.db import Database, make_engine, normalize_url, open_database
from storage.embedded import stop_embedded_now
from storage.models import LogEntry
from storage.tenancy import ensure_client

INDEX = "ix_log_entries_message_trgm"


def scalar(engine: Engine, sql: str) -> str | None:
    with engine.connect() as conn:
        return conn.execute(text(sql)).scalar()


def index_definition(engine: Engine) -> str | None:
    return scalar(
        engine,
        "SELECT indexdef FROM pg_indexes"
        f" WHERE schemaname = current_schema() AND indexname = '{INDEX}'",
    )


def extension_schema(engine: Engine) -> str | None:
    return scalar(
        engine,
        "SELECT n.nspname FROM pg_extension e"
        " JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'",
    )


def ships_pg_trgm(engine: Engine) -> bool:
    return (
        scalar(engine, "SELECT 'yes' FROM pg_available_extensions WHERE name = 'pg_trgm'") == "yes"
    )


def search_still_works(database: Database) -> None:
    with database.session() as session:
        cid = ensure_client(session, "acme")
        session.execute(
            insert(LogEntry),
            [
                {
                    "client_id": cid,
                    "ts": datetime(2026, 1, 15, tzinfo=UTC),
                    "level": "INFO",
                    "logger": "pulse.test",
                    "message": message,
                }
                for message in ("page loaded", "read TIMEOUT", "page loaded")
            ],
        )
    found = logs.latest(database, "acme", LogFilter(text="timeout")).records
    assert [r.message for r in found] == ["read TIMEOUT"]


def test_upgrade_builds_the_index_outside_the_schema_and_downgrade_drops_it(
    empty_engine: Engine,
) -> None:
    schema = scalar(empty_engine, "SELECT current_schema()")
    if not ships_pg_trgm(empty_engine):
        pytest.skip("the test PostgreSQL does not ship pg_trgm")
    migrate.upgrade(empty_engine)
    assert "USING gin (message" in (index_definition(empty_engine) or "")
    assert "gin_trgm_ops" in (index_definition(empty_engine) or "")
    # Dropping a scratch schema must not take the extension, and every other schema's index.
    assert extension_schema(empty_engine) not in (None, schema)

    migrate.downgrade(empty_engine, "0002")
    assert index_definition(empty_engine) is None
    assert extension_schema(empty_engine) is not None  # others may depend on it


@pytest.fixture
def unprivileged_engine(pg_url: str) -> Iterator[Engine]:
    """A fresh database without pg_trgm, and a role that may not create extensions in it."""
    name = f"pulse_t_{uuid.uuid4().hex[:10]}"
    admin_url = normalize_url(pg_url)
    admin = admin_url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE ROLE "{name}" LOGIN')
        conn.execute(f'CREATE DATABASE "{name}"')
    fresh = admin_url.set(drivername="postgresql", database=name)
    with psycopg.connect(fresh.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA logs AUTHORIZATION "{name}"')
    engine = make_engine(admin_url.set(database=name, username=name), schema="logs")
    try:
        yield engine
    finally:
        engine.dispose()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            conn.execute(f'DROP ROLE "{name}"')


def test_a_role_that_cannot_create_pg_trgm_gets_no_index_a_warning_and_working_search(
    unprivileged_engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="storage.migrations"):
        migrate.upgrade(unprivileged_engine)
    assert migrate.status(unprivileged_engine).up_to_date
    assert index_definition(unprivileged_engine) is None
    assert f"skipping {INDEX}" in caplog.text
    search_still_works(Database(engine=unprivileged_engine, embedded=False))


def test_the_embedded_server_gets_the_index_only_if_it_ships_pg_trgm(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # The pgserver build this was written against ships no pg_trgm (only plpgsql, vector).
    with caplog.at_level(logging.WARNING, logger="storage.migrations"):
        database = open_database(None, tmp_path)  # upgrades the embedded schema
    try:
        assert migrate.status(database.engine).up_to_date
        if ships_pg_trgm(database.engine):
            assert index_definition(database.engine) is not None
        else:
            assert index_definition(database.engine) is None
            assert "does not ship the pg_trgm extension" in caplog.text
        search_still_works(database)
    finally:
        database.dispose()
        stop_embedded_now(tmp_path)
