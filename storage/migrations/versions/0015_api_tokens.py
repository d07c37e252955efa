"""api tokens: bearer tokens of the HTTP API, stored as their SHA-256 (issue 16)

Revision ID: 0015
Revises: 0014

One row per token: its client, name (unique per client), role (viewer, user, admin), the
hex SHA-256 of the token (the token itself is shown once and never stored), who created
it, when it was last used and when it was revoked. Isolated by client like every
`client_id` table (`pulse_isolate_by_client`, migration 0013): row-level security and the
default grants (viewers read — a hash gives no token —, admins and workers write).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("client_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["clients.id"],
            name=op.f("fk_api_tokens_client_id_clients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("client_id", "name", name=op.f("uq_api_tokens_client_id_name")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    op.execute("SELECT pulse_isolate_by_client('api_tokens')")


def downgrade() -> None:
    op.drop_table("api_tokens")
