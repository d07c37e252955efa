"""The probe tells a reachable database, a refused connection and a bad query apart."""

from __future__ import annotations

import socket

import pytest
from sqlalchemy import exc as sa_exc
from sqlalchemy import make_url, text

from pulse_console.services import connectivity
from storage.db import Database, make_engine


def test_ping_answers_none_when_the_database_is_there(database: Database) -> None:
    assert connectivity.ping(database) is None


def test_ping_says_why_when_nothing_listens(pg_url: str) -> None:
    url = make_url(pg_url)
    if not url.host:
        pytest.skip("needs PostgreSQL on TCP to point next to it")
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    refused = Database(engine=make_engine(url.set(host="127.0.0.1", port=port)), embedded=False)
    try:
        problem = connectivity.ping(refused)
    finally:
        refused.dispose()
    assert problem is not None and "refused" in problem.lower()


def test_a_bad_query_or_a_statement_timeout_is_not_a_lost_connection(database: Database) -> None:
    with pytest.raises(sa_exc.ProgrammingError) as bad_query, database.engine.connect() as conn:
        conn.execute(text("SELECT * FROM no_such_table"))
    assert not connectivity.is_connection_error(bad_query.value)
    with pytest.raises(sa_exc.OperationalError) as timeout, database.engine.connect() as conn:
        conn.execute(text("SET statement_timeout = 10"))
        conn.execute(text("SELECT pg_sleep(1)"))
    assert not connectivity.is_connection_error(timeout.value)


def test_a_terminated_session_is_a_lost_connection(database: Database) -> None:
    with database.engine.connect() as conn:
        pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with database.engine.connect() as other:
            other.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
        with pytest.raises(sa_exc.DBAPIError) as lost:
            conn.execute(text("SELECT 1"))
    assert connectivity.is_connection_error(lost.value)
    assert connectivity.ping(database) is None  # the pool reconnects
