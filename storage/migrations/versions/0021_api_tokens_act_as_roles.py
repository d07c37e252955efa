"""api tokens act as PostgreSQL roles: the API's requests run under row-level security (issue 16)

Revision ID: 0021
Revises: 0018

Each API token gets a role of its own (`api_tokens.db_role`, `pulse_tok_<hex>`, NOLOGIN): a
member of its product group (pulse_viewer, pulse_user or pulse_admin) and, through
`client_members`, of its one client. The API runs every transaction of a request under
`SET LOCAL ROLE <db_role>` (`storage.db.Database.acting_as`), so PostgreSQL's GRANTs and
policies judge the token, not the login that serves.

Only a member of `pulse_api` may take a token's role: every token role is granted to that
group (NOLOGIN, NOINHERIT: it holds the roles without their rights), and the login that
serves must be a member of it (the owner running this migration is made one).

The policies and checks of migrations 0013 and 0017 judged `session_user`, which SET ROLE
does not change. They now judge `pulse_acting_role()`: the role taken with SET ROLE, else
the login. SET ROLE is only allowed to a role the login is a member of, so the acting role
sees at most what the login sees. The functions are rewritten from their own definitions
(`pg_get_functiondef`), so nothing else in them changes; the audit trail keeps recording
`session_user`, the real login.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_REWRITTEN = (
    "pulse_visible_client_ids()",
    "pulse_isolate_by_client(regclass)",
    "pulse_log_matches(bigint,text)",
    "pulse_is_admin()",
)

_API_GROUP = """
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pulse_api') THEN
        BEGIN
            CREATE ROLE pulse_api NOLOGIN NOINHERIT;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;  -- another database's migration created it at the same moment
        END;
    END IF;
    IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
       AND NOT pg_has_role(current_user, 'pulse_api', 'MEMBER') THEN
        BEGIN
            GRANT pulse_api TO current_user;
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE NOTICE 'an owner without CREATEROLE: grant it pulse_api to serve the API';
        END;
    END IF;
END $$
"""

_ACTING_ROLE = """
CREATE FUNCTION pulse_acting_role() RETURNS name
LANGUAGE sql STABLE
AS $$
    SELECT CASE current_setting('role') WHEN 'none' THEN session_user
                ELSE current_setting('role')::name END
$$
"""


# Every policy of the schema that names the login names the acting role instead (ALTER
# POLICY: the tables' GRANTs, which later migrations narrowed, stay as they are). Only this
# schema's catalog rows are read and deparsed, in the loop: the pg_policies view deparses
# every policy of the database, and one of a schema another session is dropping fails
# ("cache lookup failed for function").
def _policies(old: str, new: str) -> str:
    return f"""
DO $$
DECLARE
    p record;
    qual text;
    with_check text;
BEGIN
    FOR p IN SELECT pol.polname, pol.polrelid, pol.polqual, pol.polwithcheck, c.relname
             FROM pg_policy pol JOIN pg_class c ON c.oid = pol.polrelid
             WHERE c.relnamespace = (SELECT oid FROM pg_namespace
                                     WHERE nspname = current_schema()) LOOP
        qual := pg_get_expr(p.polqual, p.polrelid);
        with_check := pg_get_expr(p.polwithcheck, p.polrelid);
        IF qual LIKE '%{old}%' OR with_check LIKE '%{old}%' THEN
            IF qual IS NOT NULL THEN
                EXECUTE format('ALTER POLICY %I ON %I USING (%s)', p.polname, p.relname,
                               replace(qual, '{old}', '{new}'));
            END IF;
            IF with_check IS NOT NULL THEN
                EXECUTE format('ALTER POLICY %I ON %I WITH CHECK (%s)', p.polname, p.relname,
                               replace(with_check, '{old}', '{new}'));
            END IF;
        END IF;
    END LOOP;
END $$
"""


# Tokens made before this revision get their roles here (as `token create` makes them).
_EXISTING_TOKENS = """
DO $$
DECLARE
    t record;
    r text;
BEGIN
    FOR t IN SELECT id, client_id, role FROM api_tokens
             WHERE db_role IS NULL AND revoked_at IS NULL LOOP
        r := 'pulse_tok_' || substr(md5(random()::text || clock_timestamp()::text), 1, 16);
        EXECUTE format('CREATE ROLE %I NOLOGIN', r);
        EXECUTE format('GRANT %I TO %I', 'pulse_' || t.role, r);
        EXECUTE format('GRANT %I TO pulse_api', r);
        INSERT INTO client_members (role_name, client_id) VALUES (r, t.client_id);
        UPDATE api_tokens SET db_role = r WHERE id = t.id;
    END LOOP;
END $$
"""


def _rewrite(old: str, new: str) -> str:
    functions = ", ".join(f"'{f}'" for f in _REWRITTEN)
    return f"""
DO $$
DECLARE
    f text;
BEGIN
    FOREACH f IN ARRAY ARRAY[{functions}] LOOP
        -- named in this schema: never another schema's function of the same signature
        EXECUTE replace(pg_get_functiondef((quote_ident(current_schema()) || '.' || f)
                                           ::regprocedure), '{old}', '{new}');
    END LOOP;
END $$
"""


def upgrade() -> None:
    op.execute(_API_GROUP)
    op.execute(_ACTING_ROLE)
    op.execute(_rewrite("session_user", "pulse_acting_role()"))
    op.execute(_policies("SESSION_USER", "pulse_acting_role()"))
    op.add_column("api_tokens", sa.Column("db_role", sa.String(length=63), nullable=True))
    op.create_unique_constraint(op.f("uq_api_tokens_db_role"), "api_tokens", ["db_role"])
    op.execute(_EXISTING_TOKENS)


def downgrade() -> None:
    op.drop_constraint(op.f("uq_api_tokens_db_role"), "api_tokens", type_="unique")
    op.drop_column("api_tokens", "db_role")
    op.execute(_rewrite("pulse_acting_role()", "session_user"))
    op.execute(_policies("pulse_acting_role()", "SESSION_USER"))
    op.execute("DROP FUNCTION pulse_acting_role()")
