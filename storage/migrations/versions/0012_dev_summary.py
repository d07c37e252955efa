"""dev summary: work_items.dev_summary, the development summary the stored links reflect

Revision ID: 0012
Revises: 0009

Why (issue 15, item 1): the Jira sync made one dev-status request per issue. Search results
carry each issue's development summary (the "Development" field); the sync now asks for the
links only when that summary shows pull requests and differs from the one stored here with
the links. NULL (rows from before, or sources without a summary) means "unknown": the links
are asked for once more.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("work_items", sa.Column("dev_summary", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("work_items", "dev_summary")
