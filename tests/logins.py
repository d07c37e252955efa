"""PostgreSQL logins for tests: a role created per test, and connections as that login.

`as_login` connects as the test's superuser and switches `SET SESSION AUTHORIZATION`, so
`session_user` — the identity the audit trail records — is the other login, exactly as if it
had connected itself (pg_hba here is trust for one user only).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, text


@contextmanager
def login(engine: Engine, prefix: str = "pulse_t") -> Iterator[str]:
    """A new login with every privilege on the test's schema; dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with engine.begin() as conn:
        schema = conn.execute(text("SELECT current_schema()")).scalar_one()
        conn.exec_driver_sql(f'CREATE ROLE "{name}" LOGIN')
        conn.exec_driver_sql(f'GRANT USAGE ON SCHEMA "{schema}" TO "{name}"')
        conn.exec_driver_sql(f'GRANT ALL ON ALL TABLES IN SCHEMA "{schema}" TO "{name}"')
        conn.exec_driver_sql(f'GRANT ALL ON ALL SEQUENCES IN SCHEMA "{schema}" TO "{name}"')
    try:
        yield name
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql(f'DROP OWNED BY "{name}"')
            conn.exec_driver_sql(f'DROP ROLE "{name}"')


@contextmanager
def as_login(engine: Engine, name: str) -> Iterator[Connection]:
    """A connection (in a transaction, committed on success) whose session_user is `name`."""
    with engine.connect() as conn:
        conn.exec_driver_sql(f'SET SESSION AUTHORIZATION "{name}"')
        conn.commit()
        try:
            yield conn
            conn.commit()
        finally:
            conn.rollback()
            conn.exec_driver_sql("RESET SESSION AUTHORIZATION")
            conn.commit()
