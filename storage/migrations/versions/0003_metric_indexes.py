"""metric indexes: the status changelog by item, production deployments, work items by type

Revision ID: 0003
Revises: 0002

Why (issue 8, the Metrics screen on the large sandbox organisation):
- `ix_work_item_transitions_status`: the flow timeline reads every status change of the
  items in scope ordered by (changed_at, id); a partial covering index lets it do so with an
  index-only scan instead of reading the whole changelog (every field) from the heap.
- `ix_deployments_production`: DORA reads successful production deployments by
  `upper(status)` and `lower(environment)`; the expression index gives the planner
  statistics on both expressions (without them it guessed 10 rows for 20,000 and chose
  nested loops) and a bitmap scan.
- `ix_work_items_client_id_lower_type`: incidents are work items whose `lower(type)` an
  issue-type mapping names (a handful of rows out of every work item).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_work_item_transitions_status",
        "work_item_transitions",
        ["work_item_id", "changed_at", "id"],
        unique=False,
        postgresql_include=["client_id", "from_value", "to_value"],
        postgresql_where=sa.text("field = 'status'"),
    )
    op.create_index(
        "ix_deployments_production",
        "deployments",
        ["client_id", sa.text("upper(status)"), sa.text("lower(environment)"), "created_at"],
        unique=False,
    )
    op.create_index(
        "ix_work_items_client_id_lower_type",
        "work_items",
        ["client_id", sa.text("lower(type)")],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_work_items_client_id_lower_type", table_name="work_items")
    op.drop_index("ix_deployments_production", table_name="deployments")
    op.drop_index("ix_work_item_transitions_status", table_name="work_item_transitions")
