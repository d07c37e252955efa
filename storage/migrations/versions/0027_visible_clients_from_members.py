"""a login's visible clients read from client_members, not from every role of the cluster

Revision ID: 0027
Revises: 0023

`pulse_visible_client_ids()` (migration 0013, acting role since 0021) is the InitPlan of
every client policy: each query a login runs pays for it once. It listed every role of the
cluster (`pg_roles`) and asked `pg_has_role` of each, so its cost grew with the cluster's
roles (test logins, API token roles of every database on the server): 0.25-0.45 ms at 270
roles, the whole difference between a login's and the owner's small log queries (issue 14:
a login no more than 10 % slower).

It now walks `client_members` (one row per role and client of this schema: small) and asks
`pg_has_role` of each member role, found by name with `to_regrole` (a syscache lookup: a
role dropped without its rows, or a name no role has, gives NULL, hence no client). The
name is quoted first, so it is taken as written (no case folding); an empty name, or one
longer than a role name can be (63 bytes: it would be truncated into another role's
name), is never looked up. And it is plpgsql: a SECURITY DEFINER function is never inlined,
and a LANGUAGE sql one is parsed and planned again in every query that calls it, where
plpgsql keeps its plan for the session. Per query (2,000 queries, 272 roles): ~170 µs
before, ~65 µs as sql, ~15-25 µs as plpgsql, ~8 µs for a function that reads nothing.

Its attributes stay as migrations 0013 and 0026 set them: SECURITY DEFINER (members are
read whatever the caller may see of `client_members`), STABLE, PARALLEL RESTRICTED, the
search_path pinned to the schema (CREATE OR REPLACE resets what it does not name).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0027"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MEMBER_ROLES = """
LANGUAGE plpgsql STABLE PARALLEL RESTRICTED SECURITY DEFINER
AS $$
BEGIN
    RETURN (
        SELECT coalesce(array_agg(DISTINCT m.client_id), '{}')
        FROM client_members m
        WHERE pg_has_role(
            pulse_acting_role(),
            CASE WHEN m.role_name <> '' AND octet_length(m.role_name) < 64
                 THEN to_regrole(quote_ident(m.role_name)) END,
            'MEMBER'
        )
    );
END
$$"""

_EVERY_ROLE = """
LANGUAGE sql STABLE PARALLEL RESTRICTED SECURITY DEFINER
AS $$
    SELECT coalesce(array_agg(DISTINCT m.client_id), '{}')
    FROM client_members m
    WHERE m.role_name IN (
        SELECT rolname FROM pg_roles WHERE pg_has_role(pulse_acting_role(), oid, 'MEMBER')
    )
$$"""


def _visible(body: str) -> str:
    return f"""
CREATE OR REPLACE FUNCTION pulse_visible_client_ids() RETURNS bigint[]{body};
DO $$
BEGIN
    EXECUTE format('ALTER FUNCTION pulse_visible_client_ids() SET search_path = %I, pg_temp',
                   current_schema());
END $$
"""


def upgrade() -> None:
    op.execute(_visible(_MEMBER_ROLES))


def downgrade() -> None:
    op.execute(_visible(_EVERY_ROLE))
