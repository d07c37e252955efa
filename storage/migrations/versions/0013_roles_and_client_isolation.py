"""roles, client members and row-level security (issue 14)

Revision ID: 0013
Revises: 0008

Identity is the PostgreSQL login. Five group roles carry the product's rights, cluster-wide
and created here only when missing (a second database on the same server reuses them):
`pulse_viewer` < `pulse_user` < `pulse_admin` (each a member of the one before),
`pulse_worker` (headless workers: writes what the pipelines load) and `pulse_all_clients`
(a member sees every client). GRANTs per table give each role exactly its rights: viewers
read everything but `secrets`; users also insert controls (and their audit rows); admins
write everything; workers write what pipelines and the engine write, but not clients,
members or users, and only read secrets. A restrictive policy keeps `set_setting` controls
(orchestrator settings) admin-only.

Clients are isolated by row-level security: `client_members` says which role belongs to
which client, `pulse_visible_client_ids()` (SECURITY DEFINER) answers the clients of
`session_user` and of every group it is in, and every table with a `client_id` column gets
RLS ENABLEd and FORCEd with two policies: `pulse_client_rows` (only the visible clients'
rows; rows with a NULL client_id are global, readable by all and written only by the
owner or `pulse_all_clients`) and `pulse_all_rows` (USING true for `pulse_all_clients` and
the table's owner). A login that creates a client becomes its member (a trigger).

A later migration that creates a table with `client_id` calls, in SQL,
`SELECT pulse_isolate_by_client('table_name')` once: it applies the same RLS, policies and
the default GRANTs (viewer SELECT, admin and worker write). Idempotent. A table outside
the default grants (secrets-like) revokes afterwards what it must not give.

These GRANTs and policies are the backstop behind the role rule the console, the CLI and
the API check first (`pulse_console/services/roles.py`).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GROUPS = ("pulse_viewer", "pulse_user", "pulse_admin", "pulse_worker", "pulse_all_clients")
# (member, group): a pulse_user is a pulse_viewer, a pulse_admin a pulse_user.
HIERARCHY = (("pulse_user", "pulse_viewer"), ("pulse_admin", "pulse_user"))

_ROLES = """
DO $$
DECLARE
    r text;
    pair text[];
BEGIN
    FOREACH r IN ARRAY ARRAY[{groups}] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
            BEGIN
                EXECUTE format('CREATE ROLE %I NOLOGIN', r);
            EXCEPTION WHEN duplicate_object OR unique_violation THEN
                NULL;  -- another database's migration created it at the same moment
            END;
        END IF;
    END LOOP;
    FOREACH pair SLICE 1 IN ARRAY ARRAY[{hierarchy}] LOOP
        IF NOT pg_has_role(pair[1], pair[2], 'MEMBER') THEN
            BEGIN
                EXECUTE format('GRANT %I TO %I', pair[2], pair[1]);
            EXCEPTION WHEN unique_violation OR internal_error THEN
                NULL;  -- granted concurrently
            END;
        END IF;
    END LOOP;
END $$
"""

_MEMBERS = """
CREATE TABLE client_members (
    role_name text NOT NULL,
    client_id bigint NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT pk_client_members PRIMARY KEY (role_name, client_id),
    CONSTRAINT fk_client_members_client_id_clients FOREIGN KEY (client_id)
        REFERENCES clients (id) ON DELETE CASCADE
);
CREATE INDEX ix_client_members_client_id ON client_members (client_id)
"""

# Looked up in pg_roles first so a role dropped without its rows never breaks a query.
_VISIBLE = """
CREATE FUNCTION pulse_visible_client_ids() RETURNS bigint[]
LANGUAGE sql STABLE SECURITY DEFINER
AS $$
    SELECT coalesce(array_agg(DISTINCT m.client_id), '{}')
    FROM client_members m
    WHERE m.role_name IN (
        SELECT rolname FROM pg_roles WHERE pg_has_role(session_user, oid, 'MEMBER')
    )
$$
"""

_ISOLATE = """
CREATE FUNCTION pulse_isolate_by_client(tbl regclass) RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    owner_name text;
    nullable boolean;
    -- The OR (a one-off boolean for the whole query, true for pulse_all_clients members)
    -- keeps the planner from taking the policy for a selective condition: before a table
    -- has statistics it would otherwise guess `client_id = ANY (…)` keeps 5 % of rows and
    -- walk a client_id index inside nested loops (a status-span refresh of a first sync:
    -- 46 s instead of 30 ms). The queries' own client_id conditions choose the indexes.
    visible text := 'client_id = ANY ((SELECT pulse_visible_client_ids())::bigint[])'
        ' OR (SELECT pg_has_role(session_user, ''pulse_all_clients'', ''MEMBER''))';
    readable text;
    seq text;
BEGIN
    SELECT pg_get_userbyid(c.relowner) INTO owner_name FROM pg_class c WHERE c.oid = tbl;
    SELECT NOT a.attnotnull INTO nullable
    FROM pg_attribute a WHERE a.attrelid = tbl AND a.attname = 'client_id' AND NOT a.attisdropped;
    IF nullable IS NULL THEN
        RAISE EXCEPTION '% has no client_id column', tbl;
    END IF;
    readable := CASE WHEN nullable THEN 'client_id IS NULL OR ' || visible ELSE visible END;
    EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', tbl);
    EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', tbl);
    EXECUTE format('DROP POLICY IF EXISTS pulse_client_rows ON %s', tbl);
    EXECUTE format('DROP POLICY IF EXISTS pulse_all_rows ON %s', tbl);
    EXECUTE format(
        'CREATE POLICY pulse_client_rows ON %s USING (%s) WITH CHECK (%s)', tbl, readable, visible
    );
    EXECUTE format(
        'CREATE POLICY pulse_all_rows ON %s TO pulse_all_clients, %I'
        ' USING (true) WITH CHECK (true)',
        tbl, owner_name
    );
    EXECUTE format('GRANT SELECT ON %s TO pulse_viewer', tbl);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %s TO pulse_admin, pulse_worker', tbl);
    FOR seq IN
        SELECT s.oid::regclass::text FROM pg_depend d JOIN pg_class s ON s.oid = d.objid
        WHERE d.refobjid = tbl AND d.deptype IN ('a', 'i') AND s.relkind = 'S'
    LOOP
        EXECUTE format('GRANT USAGE, SELECT ON SEQUENCE %s TO pulse_user, pulse_worker', seq);
    END LOOP;
END
$$;
REVOKE EXECUTE ON FUNCTION pulse_isolate_by_client(regclass) FROM PUBLIC
"""

_ALL_TABLES = """
DO $$
DECLARE
    t regclass;
BEGIN
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO pulse_viewer, pulse_worker', current_schema());
    FOR t IN
        SELECT c.oid::regclass FROM pg_class c
        WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p')
          AND EXISTS (
            SELECT 1 FROM pg_attribute a
            WHERE a.attrelid = c.oid AND a.attname = 'client_id' AND NOT a.attisdropped
          )
    LOOP
        PERFORM pulse_isolate_by_client(t);
    END LOOP;
END $$
"""

# Beyond the defaults pulse_isolate_by_client gives: tables without client_id, and rights
# that differ from "viewers read, admins and workers write".
_GRANTS = """
GRANT SELECT ON clients, alembic_version TO pulse_viewer, pulse_worker;
GRANT INSERT, UPDATE, DELETE ON clients TO pulse_admin;
GRANT USAGE, SELECT ON SEQUENCE clients_id_seq TO pulse_admin;
REVOKE ALL ON client_members, console_users FROM pulse_worker;
REVOKE INSERT, UPDATE, DELETE ON secrets FROM pulse_worker;
REVOKE ALL ON secrets FROM pulse_viewer;
GRANT SELECT ON secrets TO pulse_admin, pulse_worker;
GRANT INSERT ON control_commands TO pulse_user;
GRANT INSERT ON audit_log TO pulse_user;
"""

# Orchestrator settings are admins' (the role rule): a user may insert controls, but a
# restrictive policy refuses a `set_setting` control from anyone but an admin or the owner.
_ADMIN_CONTROLS = """
CREATE FUNCTION pulse_is_admin() RETURNS boolean
LANGUAGE sql STABLE
AS $$
    SELECT pg_has_role(session_user, 'pulse_admin', 'MEMBER')
        OR pg_has_role(session_user, (SELECT relowner FROM pg_class
                                      WHERE oid = 'control_commands'::regclass), 'MEMBER')
$$;
CREATE POLICY pulse_admin_controls ON control_commands AS RESTRICTIVE FOR INSERT
    WITH CHECK (action <> 'set_setting' OR (SELECT pulse_is_admin()))
"""

# A login that creates a client (an admin of some clients) becomes its member, so it sees
# what it made; the owner and `pulse_all_clients` members see every client anyway.
_CREATOR_JOINS = """
CREATE FUNCTION pulse_creator_joins_client() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
AS $$
BEGIN
    IF NOT pg_has_role(session_user, 'pulse_all_clients', 'MEMBER')
       AND NOT pg_has_role(session_user, (SELECT relowner FROM pg_class WHERE oid = TG_RELID),
                           'MEMBER') THEN
        INSERT INTO client_members (role_name, client_id) VALUES (session_user, NEW.id)
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER trg_clients_creator_joins AFTER INSERT ON clients
    FOR EACH ROW EXECUTE FUNCTION pulse_creator_joins_client()
"""

_PIN_PATHS = """
DO $$
DECLARE
    f text;
BEGIN
    FOREACH f IN ARRAY ARRAY['pulse_visible_client_ids()', 'pulse_creator_joins_client()',
                              'pulse_is_admin()'] LOOP
        EXECUTE format('ALTER FUNCTION %s SET search_path = %I, pg_temp', f, current_schema());
    END LOOP;
END $$
"""


def _array(values: Sequence[str]) -> str:
    return ", ".join(f"'{v}'" for v in values)


def upgrade() -> None:
    hierarchy = ", ".join(f"ARRAY[{_array(pair)}]" for pair in HIERARCHY)
    op.execute(_ROLES.format(groups=_array(GROUPS), hierarchy=hierarchy))
    op.execute(_MEMBERS)
    op.execute(_VISIBLE)
    op.execute(_CREATOR_JOINS)
    op.execute(_ISOLATE)
    op.execute(_ALL_TABLES)
    op.execute(_GRANTS)
    op.execute(_ADMIN_CONTROLS)
    op.execute(_PIN_PATHS)


def downgrade() -> None:
    # The group roles are cluster-wide and may serve other databases: they stay.
    op.execute(
        """
DO $$
DECLARE
    t regclass;
BEGIN
    FOR t IN
        SELECT DISTINCT p.polrelid::regclass FROM pg_policy p
        JOIN pg_class c ON c.oid = p.polrelid
        WHERE c.relnamespace = current_schema()::regnamespace
    LOOP
        EXECUTE format('DROP POLICY IF EXISTS pulse_client_rows ON %s', t);
        EXECUTE format('DROP POLICY IF EXISTS pulse_all_rows ON %s', t);
        EXECUTE format('ALTER TABLE %s NO FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %s DISABLE ROW LEVEL SECURITY', t);
    END LOOP;
END $$
"""
    )
    op.execute("DROP FUNCTION IF EXISTS pulse_isolate_by_client(regclass)")
    op.execute("DROP POLICY IF EXISTS pulse_admin_controls ON control_commands")
    op.execute("DROP FUNCTION IF EXISTS pulse_is_admin()")
    op.execute("DROP TRIGGER IF EXISTS trg_clients_creator_joins ON clients")
    op.execute("DROP FUNCTION IF EXISTS pulse_creator_joins_client()")
    op.execute("DROP TABLE IF EXISTS client_members")
    op.execute("DROP FUNCTION IF EXISTS pulse_visible_client_ids()")
    op.execute(
        """
DO $$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['pulse_viewer', 'pulse_user', 'pulse_admin', 'pulse_worker',
                             'pulse_all_clients'] LOOP
        EXECUTE format('REVOKE ALL ON ALL TABLES IN SCHEMA %I FROM %I', current_schema(), r);
        EXECUTE format('REVOKE ALL ON ALL SEQUENCES IN SCHEMA %I FROM %I', current_schema(), r);
        EXECUTE format('REVOKE ALL ON SCHEMA %I FROM %I', current_schema(), r);
    END LOOP;
END $$
"""
    )
