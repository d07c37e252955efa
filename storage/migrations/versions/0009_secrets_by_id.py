"""secrets by id: integration tokens named by client and integration ids, owned by the client

Revision ID: 0009
Revises: 0006

Why (issue 13, item 2): tokens were kept under `integration:<client>:<name>`, and `:` may
appear in both names, so client `a:gh` adding integration `x` overwrote client `a`'s token
for `gh:x`; `secrets.client_id` was never set. From here a token is named
`integration/<client_id>/<integration_id>` and its row carries `client_id`. The upgrade
renames every stored row whose old name belongs to exactly one integration; a row two
integrations' names collide on cannot be told apart and is dropped (its integrations then
report "no token" and need it again). Tokens kept in an OS keyring are not visible to a
migration: store them again with `integration add`.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD_NAME = "'integration:' || c.name || ':' || i.name"
_NEW_NAME = "'integration/' || i.client_id || '/' || i.id"


def upgrade() -> None:
    op.execute(
        f"""
        WITH owners AS (
            SELECT s.id AS secret_id, min(i.id) AS integration_id, count(*) AS n
            FROM secrets s
            JOIN integrations i ON TRUE
            JOIN clients c ON c.id = i.client_id
            WHERE s.name = {_OLD_NAME}
            GROUP BY s.id
        ),
        ambiguous AS (DELETE FROM secrets WHERE id IN (SELECT secret_id FROM owners WHERE n > 1))
        UPDATE secrets s
        SET name = {_NEW_NAME}, client_id = i.client_id
        FROM owners o JOIN integrations i ON i.id = o.integration_id
        WHERE s.id = o.secret_id AND o.n = 1
        """
    )
    op.execute(f"UPDATE integrations i SET secret_ref = {_NEW_NAME}")


def downgrade() -> None:
    op.execute(
        f"""
        UPDATE secrets s SET name = {_OLD_NAME}, client_id = NULL
        FROM integrations i JOIN clients c ON c.id = i.client_id
        WHERE s.name = {_NEW_NAME}
        """
    )
    op.execute(
        f"UPDATE integrations i SET secret_ref = {_OLD_NAME} "
        "FROM clients c WHERE c.id = i.client_id"
    )
