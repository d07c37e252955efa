"""short-text log search under RLS: one checked window scan; a login's queries may go parallel

Revision ID: 0026
Revises: 0022

A search text without a trigram is looked for among the SHORT_SCAN_ROWS candidates nearest
the view (services/log_search.py). Under RLS `ILIKE` (not LEAKPROOF) is tested after the
policy, so a login's planner may not take the trigram index the owner's takes: the login
scanned the whole window (1.3-2.2x the owner's time, 20x for that one query).

`pulse_log_window(...)` runs that window search as the schema owner (SECURITY DEFINER,
search_path pinned): the candidates of `p_client` (levels, job, run and the exclusive
cursor bounds after/before applied) in key order (ascending when an after-cursor is given),
the window's far edge found `p_window` rows away, then up to `p_limit` rows of the window
whose message matches the ILIKE `p_pattern` (backslash escapes), planned with the values
themselves. Rows come back with `hit` true; the window's edge row follows with `hit` false
when the window was full (older candidates were left unsearched).

It checks first, as migration 0017's `pulse_log_matches` does (and with the acting role of
migration 0021), that the caller may read `p_client`: a client in
`pulse_visible_client_ids()`, `pulse_all_clients`, or the table's owner; otherwise, and for
a NULL client, it returns no row. Only pulse_viewer (so users and admins) and pulse_worker
may call it: the roles that may SELECT log_entries.

The policies call `pulse_visible_client_ids()` and `pulse_acting_role()`, which were
PARALLEL UNSAFE (the default): any query that read a policed table was then planned without
parallel workers for a login, where the owner's got them (the PR cycle's project scope: a
Gather for the owner, none for a login). They are PARALLEL RESTRICTED now: evaluated by the
leader only (in the policies they are InitPlans, whose values the workers receive), so
what they read of the session (the role taken with SET ROLE) is the leader's own.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0026"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SIGNATURE = (
    "pulse_log_window(bigint, text[], text, bigint, timestamptz, bigint, timestamptz, bigint,"
    " integer, integer, text)"
)

_WINDOW = f"""
CREATE FUNCTION pulse_log_window(
    p_client bigint, p_levels text[], p_job text, p_run bigint,
    p_after_ts timestamptz, p_after_id bigint, p_before_ts timestamptz, p_before_id bigint,
    p_window integer, p_limit integer, p_pattern text
) RETURNS TABLE (id bigint, ts timestamptz, level varchar, job varchar, run_id bigint,
                 logger varchar, message text, hit boolean)
LANGUAGE plpgsql STABLE SECURITY DEFINER
AS $$
DECLARE
    ascending boolean := p_after_ts IS NOT NULL;
    candidates text := 'client_id = $1';
    key_order text;
    edge log_entries%ROWTYPE;
BEGIN
    IF p_client IS NULL OR NOT (
        p_client = ANY (pulse_visible_client_ids())
        OR pg_has_role(pulse_acting_role(), 'pulse_all_clients', 'MEMBER')
        OR pg_has_role(pulse_acting_role(), (SELECT relowner FROM pg_class
                                             WHERE oid = 'log_entries'::regclass), 'MEMBER')
    ) THEN
        RETURN;
    END IF;
    -- Only the conditions asked for: each plans as the service's own query would.
    IF p_levels IS NOT NULL THEN candidates := candidates || ' AND level = ANY ($2)'; END IF;
    IF p_job IS NOT NULL THEN candidates := candidates || ' AND job = $3'; END IF;
    IF p_run IS NOT NULL THEN candidates := candidates || ' AND run_id = $4'; END IF;
    IF ascending THEN
        candidates := candidates || ' AND (ts, id) > ($5, $6)';
    END IF;
    IF p_before_ts IS NOT NULL THEN
        candidates := candidates || ' AND (ts, id) < ($7, $8)';
    END IF;
    key_order := CASE WHEN ascending THEN 'ts, id' ELSE 'ts DESC, id DESC' END;
    EXECUTE format('SELECT * FROM log_entries WHERE %s ORDER BY %s OFFSET $9 - 1 LIMIT 1',
                   candidates, key_order)
        INTO edge
        USING p_client, p_levels, p_job, p_run, p_after_ts, p_after_id, p_before_ts,
              p_before_id, p_window;
    IF edge.id IS NOT NULL THEN
        candidates := candidates || CASE WHEN ascending THEN ' AND (ts, id) <= ($10, $11)'
                                         ELSE ' AND (ts, id) >= ($10, $11)' END;
    END IF;
    -- EXECUTE plans with the values themselves: the owner's plan (trigram index or range).
    RETURN QUERY EXECUTE format(
        'SELECT id, ts, level, job, run_id, logger, message, true FROM log_entries'
        ' WHERE %s AND message ILIKE $12 ORDER BY %s LIMIT $13', candidates, key_order)
        USING p_client, p_levels, p_job, p_run, p_after_ts, p_after_id, p_before_ts,
              p_before_id, p_window, edge.ts, edge.id, p_pattern, p_limit;
    IF edge.id IS NOT NULL THEN
        RETURN QUERY SELECT edge.id, edge.ts, edge.level, edge.job, edge.run_id, edge.logger,
                            edge.message, false;
    END IF;
END
$$;
REVOKE EXECUTE ON FUNCTION {_SIGNATURE} FROM PUBLIC;
GRANT EXECUTE ON FUNCTION {_SIGNATURE} TO pulse_viewer, pulse_worker;
DO $do$
BEGIN
    EXECUTE format('ALTER FUNCTION {_SIGNATURE} SET search_path = %I, pg_temp',
                   current_schema());
END $do$
"""


_POLICY_FUNCTIONS = ("pulse_visible_client_ids()", "pulse_acting_role()")


def upgrade() -> None:
    op.execute(_WINDOW)
    for function in _POLICY_FUNCTIONS:
        op.execute(f"ALTER FUNCTION {function} PARALLEL RESTRICTED")


def downgrade() -> None:
    for function in _POLICY_FUNCTIONS:
        op.execute(f"ALTER FUNCTION {function} PARALLEL UNSAFE")
    op.execute(f"DROP FUNCTION IF EXISTS {_SIGNATURE}")
