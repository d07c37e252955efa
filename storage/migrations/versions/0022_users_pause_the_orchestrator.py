"""Users pause and resume the orchestrator themselves.

Revises: 0019

Since the worker pool (0019) a control is carried out in the asking process, as the asking
login: pausing or resuming a client's orchestrator writes that client's
`orchestrator.paused` setting, which only admins and workers could write, so a user (the
role the product gives pause and resume to) was refused by the database. Users may now
insert and update settings, and restrictive policies keep every other key an admin's (or a
worker's): a user who writes another key, or whose row would change its key, is refused.
Row-level security by client still applies on top.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0022"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MAY_WRITE = (
    "key = 'orchestrator.paused'"
    " OR pg_has_role(pulse_acting_role(), 'pulse_admin', 'MEMBER')"
    " OR pg_has_role(pulse_acting_role(), 'pulse_worker', 'MEMBER')"
)


def upgrade() -> None:
    op.execute("GRANT INSERT, UPDATE ON settings TO pulse_user")
    op.execute(
        "CREATE POLICY pulse_users_write_pause_only ON settings AS RESTRICTIVE FOR INSERT"
        f" TO pulse_user WITH CHECK ({_MAY_WRITE})"
    )
    op.execute(
        "CREATE POLICY pulse_users_update_pause_only ON settings AS RESTRICTIVE FOR UPDATE"
        f" TO pulse_user USING ({_MAY_WRITE}) WITH CHECK ({_MAY_WRITE})"
    )


def downgrade() -> None:
    op.execute("DROP POLICY IF EXISTS pulse_users_update_pause_only ON settings")
    op.execute("DROP POLICY IF EXISTS pulse_users_write_pause_only ON settings")
    op.execute("REVOKE INSERT, UPDATE ON settings FROM pulse_user")
