"""releases, goals and the work items they hold (the Aha! source, issue 20)

Revision ID: 0008
Revises: 0007

`releases` (Aha! releases; later Jira fix versions) and `goals` (Aha! goals and initiatives,
told apart by `kind`) are source records keyed per (client_id, integration_id,
external_id); `work_item_releases` and `work_item_goals` link work items to them. Names
are the analysts' contract (DESIGN.md, issue 20). Chained after the head its branch met
(0011, leader epochs); the Azure DevOps migration 0007 is to be chained in at merge.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _source_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("client_id", sa.BigInteger(), nullable=False),
        sa.Column("integration_id", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
    ]


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete="CASCADE"
    )


def _source_constraints(table: str) -> list[sa.Constraint]:
    return [
        _fk(table, "client_id", "clients"),
        _fk(table, "integration_id", "integrations"),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
        sa.UniqueConstraint(
            "client_id", "integration_id", "external_id", name=op.f(f"uq_{table}_nk")
        ),
    ]


def _link_table(table: str, target: str, column: str) -> None:
    op.create_table(
        table,
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("client_id", sa.BigInteger(), nullable=False),
        sa.Column("work_item_id", sa.BigInteger(), nullable=False),
        sa.Column(column, sa.BigInteger(), nullable=False),
        _fk(table, "client_id", "clients"),
        _fk(table, "work_item_id", "work_items"),
        _fk(table, column, target),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
        sa.UniqueConstraint("client_id", "work_item_id", column, name=op.f(f"uq_{table}_nk")),
    )
    op.create_index(op.f(f"ix_{table}_{column}"), table, [column], unique=False)


def upgrade() -> None:
    op.create_table(
        "releases",
        *_source_columns(),
        sa.Column("external_id", sa.Text(), nullable=False),
        sa.Column("key", sa.Text(), nullable=True),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("project_key", sa.Text(), nullable=True),
        sa.Column("status", sa.Text(), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("release_date", sa.Date(), nullable=True),
        sa.Column("released", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("raw", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        *_source_constraints("releases"),
    )
    op.create_index(op.f("ix_releases_client_id_key"), "releases", ["client_id", "key"])
    op.create_table(
        "goals",
        *_source_columns(),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("external_id", sa.Text(), nullable=False),
        sa.Column("key", sa.Text(), nullable=True),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("project_key", sa.Text(), nullable=True),
        sa.Column("status", sa.Text(), nullable=True),
        sa.Column("progress", sa.Float(), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("raw", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        *_source_constraints("goals"),
    )
    op.create_index(op.f("ix_goals_client_id_key"), "goals", ["client_id", "key"])
    _link_table("work_item_releases", "releases", "release_id")
    _link_table("work_item_goals", "goals", "goal_id")


def downgrade() -> None:
    op.drop_table("work_item_goals")
    op.drop_table("work_item_releases")
    op.drop_table("goals")
    op.drop_table("releases")
