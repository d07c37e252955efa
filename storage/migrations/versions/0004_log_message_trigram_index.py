"""log message trigram index: substring search in log_entries.message uses an index

Revision ID: 0004
Revises: 0003

The index needs the pg_trgm extension. Some servers do not ship it (the embedded pgserver
build does not) and some roles may not create it, so the migration then skips the index and
says why with a WARNING: text search still works, by scanning. One DO block does it all, so
the offline SQL (what tests replay) behaves exactly like the online run.

The extension goes into `public` (or stays wherever it already is), never the current schema:
tests migrate scratch schemas that are dropped with CASCADE, which would take the extension,
and every other schema's index on it, along.
"""

import logging
from collections.abc import Sequence

import psycopg
from alembic import context, op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_log_entries_message_trgm"

_log = logging.getLogger("storage.migrations")

_CREATE = f"""
DO $trgm$
DECLARE
    trgm_schema name;
BEGIN
    SELECT n.nspname INTO trgm_schema
    FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
    WHERE e.extname = 'pg_trgm';
    IF trgm_schema IS NULL THEN
        IF NOT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm') THEN
            RAISE WARNING 'skipping {INDEX}: this PostgreSQL does not ship the pg_trgm '
                'extension, so log text search scans log_entries';
            RETURN;
        END IF;
        BEGIN
            CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public;
        EXCEPTION
            WHEN insufficient_privilege OR invalid_schema_name THEN
                RAISE WARNING 'skipping {INDEX}: cannot create extension pg_trgm (%), so '
                    'log text search scans log_entries', SQLERRM;
                RETURN;
            WHEN unique_violation THEN
                NULL;  -- another session created it at the same moment
        END;
        SELECT n.nspname INTO trgm_schema
        FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
        WHERE e.extname = 'pg_trgm';
    END IF;
    EXECUTE format(
        'CREATE INDEX {INDEX} ON log_entries USING gin (message %I.gin_trgm_ops)', trgm_schema
    );
END
$trgm$;
"""


def upgrade() -> None:
    if context.is_offline_mode():
        op.execute(_CREATE)
        return
    # psycopg drops server notices unless asked; the WARNING is the only word on a skip.
    raw = op.get_bind().connection.driver_connection
    assert isinstance(raw, psycopg.Connection)
    raw.add_notice_handler(_forward_warning)
    try:
        op.execute(_CREATE)
    finally:
        raw.remove_notice_handler(_forward_warning)


def downgrade() -> None:
    # The extension stays: other objects in the database may depend on it.
    op.execute(f"DROP INDEX IF EXISTS {INDEX}")


def _forward_warning(diag: psycopg.errors.Diagnostic) -> None:
    if diag.severity_nonlocalized == "WARNING":
        _log.warning("%s", diag.message_primary)
