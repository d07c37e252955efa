"""Is the database there? A cheap probe, and telling a lost connection from other errors.

The console probes while it runs so a dropped connection becomes a banner (and a reload
when it comes back) instead of an error dialog from every screen that tries to read.
"""

from __future__ import annotations

import psycopg
from sqlalchemy import exc as sa_exc
from sqlalchemy import text

from storage.db import ActingRoleGone, Database

__all__ = ["ActingRoleGone", "is_busy", "is_connection_error", "ping", "reason", "refusal"]


def ping(database: Database) -> str | None:
    """None when the database answers `SELECT 1`; else why not, in one line.

    The pool pre-pings, so a connection the server dropped is replaced here rather than
    failing the next screen's query.
    """
    try:
        with database.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as error:
        if not is_connection_error(error):
            raise
        return reason(error)
    return None


def is_connection_error(error: BaseException) -> bool:
    """The server is unreachable or closed our connection (not a bad query or constraint),
    also when a library wrapped the driver's error (procrastinate's ConnectorException)."""
    cause = error.__cause__
    if cause is not None and cause is not error and _is_connection_error(cause):
        return True
    return _is_connection_error(error)


def _is_connection_error(error: BaseException) -> bool:
    if isinstance(error, sa_exc.DBAPIError):
        if error.connection_invalidated:
            return True
        error = error.orig if error.orig is not None else error
    if isinstance(error, psycopg.errors.QueryCanceled):
        return False  # a statement timeout: the server is there, the query was slow
    return isinstance(
        error,
        (
            sa_exc.DisconnectionError,
            sa_exc.OperationalError,
            psycopg.OperationalError,
            psycopg.InterfaceError,
            ConnectionError,
        ),
    )


def reason(error: BaseException) -> str:
    """The driver's first line (`connection refused`, `server closed the connection…`)."""
    origin = getattr(error, "orig", None) or error
    lines = str(origin).strip().splitlines()
    return lines[0] if lines else type(origin).__name__


def is_busy(error: BaseException) -> bool:
    """Every pooled connection stayed in use for the pool's whole timeout (a server under
    more load than its pool serves): the database is there, try again shortly."""
    return isinstance(error, sa_exc.TimeoutError)


def refusal(error: BaseException) -> str | None:
    """PostgreSQL's own refusal (a GRANT or a row-level security policy) as one line, or
    None for any other error."""
    origin = getattr(error, "orig", None) or error
    if not isinstance(origin, psycopg.errors.InsufficientPrivilege):
        return None
    return f"refused by the database: {reason(origin)}"
