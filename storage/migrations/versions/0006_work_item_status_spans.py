"""work item status spans: each work item's status timeline, precomputed

Revision ID: 0006
Revises: 0005

Why (issue 8, the Metrics screen on the large sandbox organisation): the flow metrics
rebuilt every item's status timeline from `work_item_transitions` on each call (~1 s for
23,000 items). `storage.status_spans` keeps this table current; the upgrade backfills it
from the rows already stored, with the definition as of this revision (a frozen copy, so
later changes to the module cannot change what this migration did).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BACKFILL = """
INSERT INTO work_item_status_spans (client_id, work_item_id, seq, status_key, entered_at, left_at)
WITH changes AS (
    SELECT w.client_id, w.id AS work_item_id, x.changed_at, x.from_value, x.to_value,
           row_number() OVER o AS seq, lead(x.changed_at) OVER o AS next_at
    FROM work_items w
    JOIN work_item_transitions x ON x.work_item_id = w.id AND x.client_id = w.client_id
    WHERE x.field = 'status'
    WINDOW o AS (PARTITION BY x.work_item_id ORDER BY x.changed_at, x.id)
)
SELECT client_id, work_item_id, seq, lower(to_value), changed_at, next_at FROM changes
UNION ALL
SELECT w.client_id, w.id, 0, lower(coalesce(c.from_value, w.status)), w.created_at,
       c.changed_at
FROM work_items w LEFT JOIN changes c ON c.work_item_id = w.id AND c.seq = 1
"""


def upgrade() -> None:
    op.create_table(
        "work_item_status_spans",
        sa.Column("work_item_id", sa.BigInteger(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.BigInteger(), nullable=False),
        sa.Column("status_key", sa.Text(), nullable=True),
        sa.Column("entered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("left_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["work_item_id"],
            ["work_items.id"],
            name=op.f("fk_work_item_status_spans_work_item_id_work_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("work_item_id", "seq", name=op.f("pk_work_item_status_spans")),
    )
    op.execute(_BACKFILL)  # before the indexes: one sort each instead of a row-by-row insert
    op.create_index(
        op.f("ix_work_item_status_spans_client_id_entered_at"),
        "work_item_status_spans",
        ["client_id", "entered_at"],
        unique=False,
    )
    op.create_index(
        "ix_work_item_status_spans_timeline",
        "work_item_status_spans",
        ["work_item_id"],
        unique=False,
        postgresql_include=["status_key", "entered_at", "left_at"],
    )
    op.execute("ANALYZE work_item_status_spans")


def downgrade() -> None:
    op.drop_index("ix_work_item_status_spans_timeline", table_name="work_item_status_spans")
    op.drop_index(
        op.f("ix_work_item_status_spans_client_id_entered_at"),
        table_name="work_item_status_spans",
    )
    op.drop_table("work_item_status_spans")
