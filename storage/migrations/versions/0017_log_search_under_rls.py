"""log text search under row-level security: one checked, indexed path (issue 14)

Revision ID: 0017
Revises: 0015

Under RLS PostgreSQL applies a table's policy before any condition that is not LEAKPROOF,
and `ILIKE` is not: it may not become an index condition, so a login's search for a rare
word read every row of `log_entries` (6-41x slower than the owner's, who has no policy).

`pulse_log_matches(client, pattern)` answers that search as the schema owner (SECURITY
DEFINER, search_path pinned): the rows of `client` whose message matches the ILIKE
`pattern` (backslash escapes), found on the trigram index exactly as the owner finds them.
It checks first, with the policies' own rule, that the calling login may read `client`:
a client in `pulse_visible_client_ids()`, or `pulse_all_clients`, or the table's owner;
otherwise it returns no row. Rows without a client are never returned (the log view of a
client never shows them). Only `pulse_viewer` (and so users and admins) and
`pulse_worker` may call it: the same roles that may SELECT log_entries.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0017"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MATCHES = """
CREATE FUNCTION pulse_log_matches(p_client bigint, p_pattern text) RETURNS SETOF log_entries
LANGUAGE plpgsql STABLE SECURITY DEFINER
AS $$
BEGIN
    IF p_client IS NULL OR NOT (
        p_client = ANY (pulse_visible_client_ids())
        OR pg_has_role(session_user, 'pulse_all_clients', 'MEMBER')
        OR pg_has_role(session_user, (SELECT relowner FROM pg_class
                                      WHERE oid = 'log_entries'::regclass), 'MEMBER')
    ) THEN
        RETURN;
    END IF;
    -- EXECUTE plans with the values themselves: the owner's plan (trigram index).
    RETURN QUERY EXECUTE
        'SELECT * FROM log_entries WHERE client_id = $1 AND message ILIKE $2'
        USING p_client, p_pattern;
END
$$;
REVOKE EXECUTE ON FUNCTION pulse_log_matches(bigint, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pulse_log_matches(bigint, text) TO pulse_viewer, pulse_worker;
DO $$
BEGIN
    EXECUTE format('ALTER FUNCTION pulse_log_matches(bigint, text) SET search_path = %I, pg_temp',
                   current_schema());
END $$
"""


def upgrade() -> None:
    op.execute(_MATCHES)


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS pulse_log_matches(bigint, text)")
