"""audit trail in the database: who (the PostgreSQL login) changed what, before and after

Revision ID: 0014
Revises: 0013

Why (issue 14, audit): the audit log recorded `operator@host` from the application, and only
where a service remembered to. Now triggers record every change to the configuration tables
(settings, integrations, flow_steps, status_mappings, issue_type_mappings, secrets, clients),
whoever makes it — a console, the CLI or hand-written SQL — in `audit_log` with three new
columns: `login` (the PostgreSQL login, `session_user`), `before` and `after` (jsonb; only
the changed columns for an update). A secret's value is never copied: only that it changed.

`login` is stamped by a BEFORE INSERT trigger on `audit_log` itself, so no writer can forge
it. The one exception is a worker applying an operator's control command: the operator's
login is `control_commands.requested_login` (stamped from `session_user` on insert, never
updatable), and a session that names the command it is applying (`pulse.command_id`, see
storage/audit_context.py) is credited to that login — but only when the session's login is a
member of `pulse_worker` (or a superuser, as the embedded database's owner is), so a user
cannot name someone else's command to hide behind it.

The trigger function and the login lookup are SECURITY DEFINER (search_path pinned): the
trail is written whatever the writer may insert into `audit_log` itself, including rows of
no client (a removed client, a global setting) that row-level security would refuse it.
`session_user` is still the writer's login inside them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# table -> (the column that names a row, columns whose changes are bookkeeping, not audited)
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

_IS_WORKER = """
CREATE FUNCTION pulse_session_is_worker() RETURNS boolean LANGUAGE plpgsql STABLE AS $fn$
BEGIN
    IF (SELECT rolsuper FROM pg_roles WHERE rolname = session_user) THEN
        RETURN true;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pulse_worker') THEN
        RETURN false;
    END IF;
    RETURN pg_has_role(session_user, 'pulse_worker', 'MEMBER');
END
$fn$
"""

_ACTING_LOGIN = """
CREATE FUNCTION pulse_acting_login() RETURNS text LANGUAGE plpgsql STABLE SECURITY DEFINER
AS $fn$
DECLARE
    command text := nullif(current_setting('pulse.command_id', true), '');
    requested text;
BEGIN
    IF command IS NOT NULL AND pulse_session_is_worker() THEN
        SELECT requested_login INTO requested FROM control_commands WHERE id = command::bigint;
        IF requested IS NOT NULL THEN
            RETURN requested;
        END IF;
    END IF;
    RETURN session_user;
END
$fn$
"""

_STAMP_AUDIT = """
CREATE FUNCTION pulse_stamp_audit_login() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    NEW.login := pulse_acting_login();
    RETURN NEW;
END
$fn$
"""

_STAMP_COMMAND = """
CREATE FUNCTION pulse_stamp_requested_login() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    IF TG_OP = 'INSERT' THEN
        NEW.requested_login := session_user;
    ELSE
        NEW.requested_login := OLD.requested_login;
    END IF;
    RETURN NEW;
END
$fn$
"""

# TG_ARGV[0] names the row; TG_ARGV[1:] are the bookkeeping columns left out.
_AUDIT_CHANGE = """
CREATE FUNCTION pulse_audit_change() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
AS $fn$
DECLARE
    skip text[] := coalesce(TG_ARGV[1:], '{}');
    old_row jsonb;
    new_row jsonb;
    before_row jsonb;
    after_row jsonb;
    row_client bigint;
    who text;
    details jsonb;
BEGIN
    IF TG_OP <> 'INSERT' THEN
        old_row := to_jsonb(OLD) - skip;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        new_row := to_jsonb(NEW) - skip;
    END IF;
    IF TG_OP = 'UPDATE' THEN
        SELECT jsonb_object_agg(n.key, n.value) INTO after_row
            FROM jsonb_each(new_row) n WHERE old_row -> n.key IS DISTINCT FROM n.value;
        IF after_row IS NULL THEN
            RETURN NULL;
        END IF;
        SELECT jsonb_object_agg(o.key, o.value) INTO before_row
            FROM jsonb_each(old_row) o WHERE after_row ? o.key;
    ELSE
        before_row := old_row;
        after_row := new_row;
    END IF;
    -- A secret's value is never copied: only that it was there, and whether it changed.
    IF before_row ? 'ciphertext' THEN
        before_row := before_row - 'ciphertext' || '{"value": "(hidden)"}';
    END IF;
    IF after_row ? 'ciphertext' THEN
        after_row := after_row - 'ciphertext' || jsonb_build_object(
            'value', CASE WHEN TG_OP = 'UPDATE' THEN '(changed)' ELSE '(set)' END);
    END IF;
    IF TG_TABLE_NAME = 'clients' THEN
        row_client := (new_row ->> 'id')::bigint;  -- NULL once deleted
    ELSE
        -- NULL once the client itself is gone (a client's removal cascades here).
        SELECT c.id INTO row_client FROM clients c
            WHERE c.id = (coalesce(new_row, old_row) ->> 'client_id')::bigint;
    END IF;
    who := pulse_acting_login();
    details := jsonb_strip_nulls(jsonb_build_object(
        'operation', nullif(current_setting('pulse.operation', true), ''),
        'command_id', nullif(current_setting('pulse.command_id', true), '')
    ));
    INSERT INTO audit_log (client_id, actor, action, target, details, before, after)
    VALUES (
        row_client,
        coalesce(nullif(current_setting('pulse.actor', true), ''), who),
        TG_TABLE_NAME || '.' || lower(TG_OP),
        coalesce(new_row, old_row) ->> TG_ARGV[0],
        details,
        before_row,
        after_row
    );
    RETURN NULL;
END
$fn$
"""


# The definer functions run as the schema's owner: their names resolve in its schema only.
_PIN_PATHS = """
DO $$
DECLARE
    f text;
BEGIN
    FOREACH f IN ARRAY ARRAY['pulse_acting_login()', 'pulse_audit_change()'] LOOP
        EXECUTE format('ALTER FUNCTION %s SET search_path = %I, pg_temp', f, current_schema());
    END LOOP;
END $$
"""


def upgrade() -> None:
    op.add_column("audit_log", sa.Column("login", sa.Text(), nullable=True))
    op.add_column(
        "audit_log", sa.Column("before", postgresql.JSONB(astext_type=sa.Text()), nullable=True)
    )
    op.add_column(
        "audit_log", sa.Column("after", postgresql.JSONB(astext_type=sa.Text()), nullable=True)
    )
    op.create_index(op.f("ix_audit_log_ts"), "audit_log", ["ts"])
    op.add_column(
        "control_commands",
        sa.Column(
            "requested_login",
            sa.Text(),
            server_default=sa.text("SESSION_USER"),
            nullable=False,
        ),
    )
    for statement in (_IS_WORKER, _ACTING_LOGIN, _STAMP_AUDIT, _STAMP_COMMAND, _AUDIT_CHANGE):
        op.execute(statement)
    op.execute(_PIN_PATHS)
    op.execute(
        "CREATE TRIGGER pulse_stamp_login BEFORE INSERT ON audit_log"
        " FOR EACH ROW EXECUTE FUNCTION pulse_stamp_audit_login()"
    )
    op.execute(
        "CREATE TRIGGER pulse_stamp_login BEFORE INSERT OR UPDATE ON control_commands"
        " FOR EACH ROW EXECUTE FUNCTION pulse_stamp_requested_login()"
    )
    for table, (target, skip) in AUDITED.items():
        args = ", ".join(f"'{name}'" for name in (target, *skip))
        op.execute(
            f"CREATE TRIGGER pulse_audit AFTER INSERT OR UPDATE OR DELETE ON {table}"
            f" FOR EACH ROW EXECUTE FUNCTION pulse_audit_change({args})"
        )


def downgrade() -> None:
    for table in AUDITED:
        op.execute(f"DROP TRIGGER pulse_audit ON {table}")
    op.execute("DROP TRIGGER pulse_stamp_login ON control_commands")
    op.execute("DROP TRIGGER pulse_stamp_login ON audit_log")
    for function in (
        "pulse_audit_change",
        "pulse_stamp_requested_login",
        "pulse_stamp_audit_login",
        "pulse_acting_login",
        "pulse_session_is_worker",
    ):
        op.execute(f"DROP FUNCTION {function}()")
    op.drop_column("control_commands", "requested_login")
    op.drop_index(op.f("ix_audit_log_ts"), table_name="audit_log")
    op.drop_column("audit_log", "after")
    op.drop_column("audit_log", "before")
    op.drop_column("audit_log", "login")
