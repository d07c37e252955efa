"""large JSON columns compressed with lz4 where the server has it

Revision ID: 0028
Revises: 0027

A work item's `raw` (the issue as Jira sent it, about 5 KB on the sandbox's organisations)
and `custom_fields` (about 2 KB) are over PostgreSQL's TOAST threshold, so every insert or
update compresses them, with pglz by default. In the Jira sync's writer that compression was
the largest part of storing a work item: 10,000 issues replayed page by page took 1.7 s in
the work-item upserts with pglz and 1.2 s with lz4 (the same rows; 0.5 s of it is `raw`
whatever the method). lz4 compresses several times faster at a similar ratio for JSON.

`SET COMPRESSION` changes the catalogue only: values already stored keep their method and
are read as before; new values use lz4. A server built without lz4 (`default_toast_compression`
does not list it) keeps pglz: the migration leaves those columns as they are. Column names and
types are unchanged.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0028"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LARGE_JSON = (
    ("work_items", "raw"),
    ("work_items", "custom_fields"),
    ("work_item_revision_heads", "fields"),
    ("releases", "raw"),
    ("goals", "raw"),
    ("source_users", "raw"),
)
"""Columns holding a source's payloads, often over the TOAST threshold (~2 KB)."""


def _alters(method: str) -> str:
    return "".join(
        f"ALTER TABLE {table} ALTER COLUMN {column} SET COMPRESSION {method}; "
        for table, column in LARGE_JSON
    )


def upgrade() -> None:
    # One DO block (offline SQL too): the server's lz4 support is checked where it runs.
    op.execute(
        "DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_settings"
        " WHERE name = 'default_toast_compression' AND 'lz4' = ANY(enumvals))"
        f" THEN {_alters('lz4')}END IF; END $$"
    )


def downgrade() -> None:
    op.execute(_alters("default"))
