"""jobs per integration: one job per integration, named after it

Revision ID: 0010
Revises: 0011

Why (issue 18, item 2): jobs were one per integration TYPE (`jira_sync`, `github_sync`, …),
so a client's second Jira integration was never synced. From here every integration has its
own job, named after the integration (names widen to the integrations' 100 characters).

The upgrade renames each old per-type job to the name of the integration it was attached to
(else the client's first integration of that type), with its log records and pending control
commands; its runs follow through `job_id`. The client's other integrations of that type get
their jobs from `ensure_jobs` when an orchestrator next starts (so the jobs' creation rules
live in one place). The downgrade gives each type's first job its old name back and drops the
jobs of the other integrations (with their runs), which the old version cannot hold.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD_JOBS = (
    "(VALUES ('jira_sync', 'jira'), ('github_sync', 'github'),"
    " ('azure_devops_sync', 'azure_devops'), ('aha_sync', 'aha')) AS t(job, type)"
)
# (table, column) of every place a job is named
_NAMED = (("jobs", "name"), ("log_entries", "job"), ("control_commands", "job"))


def _widen(length: int) -> None:
    for table, column in _NAMED:
        op.alter_column(table, column, type_=sa.String(length))


def _rename(renames: str) -> None:
    """Apply `renames` (a query of client_id, job_id, old_name, new_name) everywhere."""
    op.execute(
        f"""
        WITH renames AS ({renames}),
        logs AS (
            UPDATE log_entries l SET job = r.new_name FROM renames r
            WHERE l.client_id = r.client_id AND l.job = r.old_name
        ),
        controls AS (
            UPDATE control_commands c SET job = r.new_name FROM renames r
            WHERE c.client_id = r.client_id AND c.job = r.old_name
        )
        UPDATE jobs j SET name = r.new_name, integration_id = r.integration_id
        FROM renames r WHERE j.id = r.job_id
        """
    )


def upgrade() -> None:
    _widen(100)
    _rename(
        f"""
        SELECT o.client_id, o.job_id, o.old_name, i.name AS new_name, i.id AS integration_id
        FROM (
            SELECT j.client_id, j.id AS job_id, j.name AS old_name,
                   coalesce(j.integration_id, (
                       SELECT min(f.id) FROM integrations f
                       WHERE f.client_id = j.client_id AND f.type = t.type
                   )) AS integration_id
            FROM jobs j JOIN {_OLD_JOBS} ON t.job = j.name
        ) o
        JOIN integrations i ON i.id = o.integration_id
        WHERE NOT EXISTS (
            SELECT 1 FROM jobs other WHERE other.client_id = o.client_id AND other.name = i.name
        )
        """
    )


def downgrade() -> None:
    firsts = f"""
        SELECT DISTINCT ON (j.client_id, t.type)
               j.client_id, j.id AS job_id, j.name AS old_name, t.job AS new_name,
               j.integration_id
        FROM jobs j
        JOIN integrations i ON i.id = j.integration_id
        JOIN {_OLD_JOBS} ON t.type = i.type
        ORDER BY j.client_id, t.type, j.integration_id
    """
    op.execute(
        f"""
        DELETE FROM jobs j USING integrations i, {_OLD_JOBS}
        WHERE i.id = j.integration_id AND t.type = i.type
          AND j.id NOT IN (SELECT job_id FROM ({firsts}) f)
        """
    )
    _rename(firsts)
    for table, column in _NAMED:
        op.execute(f"UPDATE {table} SET {column} = left({column}, 64)")
    _widen(64)
