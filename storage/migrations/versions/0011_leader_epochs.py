"""leader epochs: a fencing token per client, incremented by every new orchestrator

Revision ID: 0011
Revises: 0012

Why (issue 13, item 1): an orchestrator that lost its advisory lock kept writing job state
and checkpoints while the new leader ran the same job. Every takeover now increments the
client's epoch, and every write on behalf of a run checks it (storage/fencing.py).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "leader_epochs",
        sa.Column("client_id", sa.BigInteger(), nullable=False),
        sa.Column("epoch", sa.BigInteger(), nullable=False),
        sa.Column("holder", sa.Text(), nullable=False),
        sa.Column(
            "taken_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["clients.id"],
            name=op.f("fk_leader_epochs_client_id_clients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("client_id", name=op.f("pk_leader_epochs")),
    )


def downgrade() -> None:
    op.drop_table("leader_epochs")
