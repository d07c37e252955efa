"""one audit row per change, login changes audited, metric filters an RLS login can index

Revision ID: 0018
Revises: 0017

**One row per change (issue 14).** A service that changed an audited table wrote its own
"intent" row (`flow.status.map`, `settings.change`, …) beside the trigger's row for the same
change, and a row inserted then updated in one transaction (an integration's insert, then
its secret reference) gave two. Now the service only tags its transaction
(`storage/audit_context.py`: the settings `pulse.operation`, `pulse.actor` and
`pulse.details`), and the trigger's row carries them: `details` holds the operation and the
service's details. The audit triggers become DEFERRABLE INITIALLY DEFERRED constraint
triggers: they run at commit, so they read the tags wherever in the transaction the service
set them (an ORM flush may write the row before the service knows what to say about it),
and each changed row gets one row: the first event of a row (by table and `id`; the
transaction-local `pulse.audited` lists those done) compares the row before the
transaction (its OLD) with the row the transaction leaves (read from the table), so an
insert then update is one insert with the final values, and a row created and removed in
the same transaction leaves none.

**Login changes (issue 14).** `user add|set-role|grant|revoke|remove` change roles (not
rows a trigger sees) and `client_members`. `pulse_audit_login_change(action, login, before,
after)` writes their one row each: global (no client: a login is cluster-wide), stamped
with `session_user` like every row, whoever may insert into `audit_log` itself. SECURITY
DEFINER, search_path pinned, executable by `pulse_admin` only, and only for `user.*`
actions, so it cannot be used to write other kinds of rows.

**Metric filters a login can index (issue 14: metrics as a login within 10 % of the owner).**
Under row-level security PostgreSQL applies a table's policy before any condition that is
not LEAKPROOF and will not use such a condition as an index condition; `upper()` and
`lower()` are not leakproof, so DORA's `upper(status) = 'SUCCESS' AND lower(environment) =
ANY(…)` could not use `ix_deployments_production` (an expression index) for a login, which
read every deployment (0.55 s instead of 0.06 s on the large sandbox organisation). The
stored generated columns `deployments.status_key` (`upper(status)`) and
`deployments.environment_key` (`lower(environment)`) hold the normalized values, compared
with plain, leakproof `=`; `ix_deployments_production` is rebuilt on them. Likewise
incidents (work items whose type an issue-type mapping names) joined on `lower(w.type)`:
a login read every work item (0.24 s instead of 0.03 s); `work_items.type_key`
(`lower(type)`) replaces the expression index `ix_work_items_client_id_lower_type` with
`ix_work_items_client_id_type_key`. And the policy reads `client_id`, which
`ix_work_item_status_spans_timeline` did not hold: a login's timeline read went to the heap
where the owner's was index-only; the index now INCLUDEs `client_id` too. `status` and
`environment` (and `type`) keep their names and values (the canonical schema); only
columns are added.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As in 0014: table -> (the column that names a row, bookkeeping columns not audited).
AUDITED: dict[str, tuple[str, tuple[str, ...]]] = {
    "clients": ("name", ()),
    "settings": ("key", ("updated_at", "updated_by")),
    "integrations": (
        "name",
        ("updated_at", "last_test_at", "last_test_ok", "last_test_message", "last_sync_at"),
    ),
    "flow_steps": ("name", ()),
    "status_mappings": ("status_name", ()),
    "issue_type_mappings": ("issue_type", ()),
    "secrets": ("name", ("updated_at",)),
}

# 0014's function, run at commit: one row per changed row of the transaction, and the
# service's `pulse.details` (a JSON object) merged into details.
_AUDIT_CHANGE = """
CREATE OR REPLACE FUNCTION pulse_audit_change() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER
AS $fn$
DECLARE
    skip text[] := coalesce(TG_ARGV[1:], '{}');
    row_id bigint := CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END;
    row_key text := ',' || TG_TABLE_NAME || ':' || row_id || ',';
    seen text := coalesce(nullif(current_setting('pulse.audited', true), ''), ',');
    old_row jsonb;
    new_row jsonb;
    before_row jsonb;
    after_row jsonb;
    change text;
    row_client bigint;
    who text;
    details jsonb;
    noted text := nullif(current_setting('pulse.details', true), '');
BEGIN
    -- The first event of a row in this transaction speaks for all of them: its OLD is the
    -- row before the transaction, and the table holds the row after it.
    IF position(row_key IN seen) > 0 THEN
        RETURN NULL;
    END IF;
    PERFORM set_config('pulse.audited', seen || substr(row_key, 2), true);
    IF TG_OP <> 'INSERT' THEN
        old_row := to_jsonb(OLD) - skip;
    END IF;
    EXECUTE format('SELECT to_jsonb(t) FROM %I.%I t WHERE t.id = $1',
                   TG_TABLE_SCHEMA, TG_TABLE_NAME)
        INTO new_row USING row_id;
    new_row := new_row - skip;
    IF old_row IS NULL AND new_row IS NULL THEN
        RETURN NULL;  -- created and removed in the same transaction
    ELSIF old_row IS NULL THEN
        change := 'insert';
        after_row := new_row;
    ELSIF new_row IS NULL THEN
        change := 'delete';
        before_row := old_row;
    ELSE
        change := 'update';
        SELECT jsonb_object_agg(n.key, n.value) INTO after_row
            FROM jsonb_each(new_row) n WHERE old_row -> n.key IS DISTINCT FROM n.value;
        IF after_row IS NULL THEN
            RETURN NULL;
        END IF;
        SELECT jsonb_object_agg(o.key, o.value) INTO before_row
            FROM jsonb_each(old_row) o WHERE after_row ? o.key;
    END IF;
    -- A secret's value is never copied: only that it was there, and whether it changed.
    IF before_row ? 'ciphertext' THEN
        before_row := before_row - 'ciphertext' || '{"value": "(hidden)"}';
    END IF;
    IF after_row ? 'ciphertext' THEN
        after_row := after_row - 'ciphertext' || jsonb_build_object(
            'value', CASE WHEN change = 'update' THEN '(changed)' ELSE '(set)' END);
    END IF;
    -- NULL once the client is gone (a client's removal cascades here).
    SELECT c.id INTO row_client FROM clients c
        WHERE c.id = CASE WHEN TG_TABLE_NAME = 'clients' THEN row_id
                          ELSE (coalesce(new_row, old_row) ->> 'client_id')::bigint END;
    who := pulse_acting_login();
    details := coalesce(noted::jsonb, '{}') || jsonb_strip_nulls(jsonb_build_object(
        'operation', nullif(current_setting('pulse.operation', true), ''),
        'command_id', nullif(current_setting('pulse.command_id', true), '')
    ));
    INSERT INTO audit_log (client_id, actor, action, target, details, before, after)
    VALUES (
        row_client,
        coalesce(nullif(current_setting('pulse.actor', true), ''), who),
        TG_TABLE_NAME || '.' || change,
        coalesce(new_row, old_row) ->> TG_ARGV[0],
        details,
        before_row,
        after_row
    );
    RETURN NULL;
END
$fn$
"""

_LOGIN_CHANGE = """
CREATE FUNCTION pulse_audit_login_change(p_action text, p_login text, p_before jsonb,
                                         p_after jsonb) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
AS $fn$
DECLARE
    noted text := nullif(current_setting('pulse.details', true), '');
BEGIN
    IF p_action NOT LIKE 'user.%' THEN
        RAISE EXCEPTION 'pulse_audit_login_change records user.* actions only, not %', p_action;
    END IF;
    INSERT INTO audit_log (client_id, actor, action, target, details, before, after)
    VALUES (
        NULL,
        coalesce(nullif(current_setting('pulse.actor', true), ''), pulse_acting_login()),
        p_action,
        p_login,
        coalesce(noted::jsonb, '{}'),
        p_before,
        p_after
    );
END
$fn$;
REVOKE EXECUTE ON FUNCTION pulse_audit_login_change(text, text, jsonb, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pulse_audit_login_change(text, text, jsonb, jsonb) TO pulse_admin;
DO $$
BEGIN
    EXECUTE format('ALTER FUNCTION pulse_audit_login_change(text, text, jsonb, jsonb)'
                   ' SET search_path = %I, pg_temp', current_schema());
END $$
"""


def _args(table: str) -> str:
    target, skip = AUDITED[table]
    return ", ".join(f"'{name}'" for name in (target, *skip))


_KEYS = """
ALTER TABLE deployments
    ADD COLUMN status_key text GENERATED ALWAYS AS (upper(status::text)) STORED,
    ADD COLUMN environment_key text GENERATED ALWAYS AS (lower(environment)) STORED
"""


def _timeline_index(include: list[str]) -> None:
    op.drop_index("ix_work_item_status_spans_timeline", table_name="work_item_status_spans")
    op.create_index(
        "ix_work_item_status_spans_timeline",
        "work_item_status_spans",
        ["work_item_id"],
        unique=False,
        postgresql_include=include,
    )


def upgrade() -> None:
    op.execute(_KEYS)  # one rewrite of the table for both columns
    op.drop_index("ix_deployments_production", table_name="deployments")
    op.create_index(
        "ix_deployments_production",
        "deployments",
        ["client_id", "status_key", "environment_key", "created_at"],
        unique=False,
    )
    op.execute(
        "ALTER TABLE work_items ADD COLUMN type_key text GENERATED ALWAYS AS (lower(type)) STORED"
    )
    op.drop_index("ix_work_items_client_id_lower_type", table_name="work_items")
    op.create_index(
        "ix_work_items_client_id_type_key", "work_items", ["client_id", "type_key"], unique=False
    )
    _timeline_index(["status_key", "entered_at", "left_at", "client_id"])
    op.execute(_AUDIT_CHANGE)
    for table in AUDITED:
        op.execute(f"DROP TRIGGER pulse_audit ON {table}")
        op.execute(
            f"CREATE CONSTRAINT TRIGGER pulse_audit AFTER INSERT OR UPDATE OR DELETE ON {table}"
            f" DEFERRABLE INITIALLY DEFERRED"
            f" FOR EACH ROW EXECUTE FUNCTION pulse_audit_change({_args(table)})"
        )
    op.execute(_LOGIN_CHANGE)


def downgrade() -> None:
    op.execute("DROP FUNCTION pulse_audit_login_change(text, text, jsonb, jsonb)")
    for table in AUDITED:
        op.execute(f"DROP TRIGGER pulse_audit ON {table}")
        op.execute(
            f"CREATE TRIGGER pulse_audit AFTER INSERT OR UPDATE OR DELETE ON {table}"
            f" FOR EACH ROW EXECUTE FUNCTION pulse_audit_change({_args(table)})"
        )
    # 0014's body takes no pulse.details; the extra merge of an unset setting is harmless,
    # so the function is left as it is rather than duplicated here.
    _timeline_index(["status_key", "entered_at", "left_at"])
    op.drop_index("ix_work_items_client_id_type_key", table_name="work_items")
    op.drop_column("work_items", "type_key")
    op.create_index(
        "ix_work_items_client_id_lower_type",
        "work_items",
        ["client_id", sa.text("lower(type)")],
        unique=False,
    )
    op.drop_index("ix_deployments_production", table_name="deployments")
    op.drop_column("deployments", "environment_key")
    op.drop_column("deployments", "status_key")
    op.create_index(
        "ix_deployments_production",
        "deployments",
        ["client_id", sa.text("upper(status)"), sa.text("lower(environment)"), "created_at"],
        unique=False,
    )
