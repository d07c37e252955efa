"""azure devops: CI runs (builds and pipeline runs) and work item revision heads

Revision ID: 0007
Revises: 0010 (chained in the order migrations landed: 0006 0009 0012 0011 0010 0007 0008)

Issue 19. `ci_runs` holds Azure Pipelines builds (the contract's columns plus the build
number, reason and URL); `work_item_revision_heads` keeps, per work item, the fields of the
newest revision read, because the reporting revisions API sends snapshots and a revision's
predecessor may have come in an earlier page or run.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ci_runs",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("client_id", sa.BigInteger(), nullable=False),
        sa.Column("integration_id", sa.BigInteger(), nullable=False),
        sa.Column("repository_id", sa.BigInteger(), nullable=True),
        sa.Column("external_id", sa.Text(), nullable=False),
        sa.Column("pipeline", sa.Text(), nullable=True),
        sa.Column("number", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("result", sa.String(length=32), nullable=True),
        sa.Column("branch", sa.Text(), nullable=True),
        sa.Column("sha", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["clients.id"],
            name=op.f("fk_ci_runs_client_id_clients"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["integration_id"],
            ["integrations.id"],
            name=op.f("fk_ci_runs_integration_id_integrations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["repository_id"],
            ["repositories.id"],
            name=op.f("fk_ci_runs_repository_id_repositories"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ci_runs")),
        sa.UniqueConstraint("client_id", "integration_id", "external_id", name="uq_ci_runs_nk"),
    )
    op.create_index(
        op.f("ix_ci_runs_repository_id_finished_at"), "ci_runs", ["repository_id", "finished_at"]
    )
    op.create_index(op.f("ix_ci_runs_sha"), "ci_runs", ["sha"])
    op.create_table(
        "work_item_revision_heads",
        sa.Column("work_item_id", sa.BigInteger(), nullable=False),
        sa.Column("client_id", sa.BigInteger(), nullable=False),
        sa.Column("rev", sa.Integer(), nullable=False),
        sa.Column(
            "fields",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["work_item_id"],
            ["work_items.id"],
            name=op.f("fk_work_item_revision_heads_work_item_id_work_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("work_item_id", name=op.f("pk_work_item_revision_heads")),
    )


def downgrade() -> None:
    op.drop_table("work_item_revision_heads")
    op.drop_index(op.f("ix_ci_runs_sha"), table_name="ci_runs")
    op.drop_index(op.f("ix_ci_runs_repository_id_finished_at"), table_name="ci_runs")
    op.drop_table("ci_runs")
