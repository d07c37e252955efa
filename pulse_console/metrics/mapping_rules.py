"""How a work item's status resolves to a flow step: the rule in words, and once in SQL.

- A **flow step** has a category (`todo`, `in_progress`, `done`), a position (its order on
  the board) and `is_active_work` (work happens there, as opposed to waiting in a queue —
  the split flow efficiency needs).
- A **status mapping** sends a status name, matched case-insensitively, to a step. A
  mapping may be restricted to one issue type; for an item of that type it wins over the
  mapping without a type. Exactly one mapping applies to each (status, type) pair, which the
  unique index on `lower(status_name), lower(coalesce(issue_type, ''))` guarantees.
- An **issue-type mapping** sends a source issue type (case-insensitively) to a kind the
  metrics know: `incident` (time to restore, change failure rate), `defect`, `feature`, …
- **Inactive** steps, mappings and work items count as absent in every metric: a mapping to
  an inactive step does not apply (the item falls back to the typeless mapping, else is
  unmapped), an inactive mapping does not apply, an inactive work item is never counted.

Operators edit steps and mappings through `pulse_console.services.flow_mappings` (the one
writer); the default proposal a first Jira sync makes is `storage.flow_defaults`.
`EFFECTIVE_MAPPINGS_SQL` is the one place the resolution rule is written in SQL: the flow
metrics and `unmapped_statuses` (the console's "not mapped" list) both join it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, text

# CTE body: the mappings that apply (active mapping → active step), keyed by lower-cased
# status and lower-cased issue type ('' = any type). Join twice: typed first, then ''.
EFFECTIVE_MAPPINGS_SQL = """
    SELECT lower(m.status_name) AS status_key, lower(coalesce(m.issue_type, '')) AS type_key,
           f.id AS step_id, f.name AS step_name, f.category, f.position, f.is_active_work
    FROM status_mappings m
    JOIN flow_steps f ON f.id = m.flow_step_id AND f.client_id = m.client_id AND f.active
    WHERE m.client_id = :client_id AND m.active
"""


@dataclass(frozen=True)
class UnmappedStatus:
    status: str
    issues: int  # active work items currently in this status


def unmapped_statuses(conn: Connection, client_id: int) -> list[UnmappedStatus]:
    """Current statuses of active work items that no effective mapping covers, most used first."""
    rows = conn.execute(
        text(
            f"""
            WITH eff AS ({EFFECTIVE_MAPPINGS_SQL})
            SELECT w.status, count(*) FROM work_items w
            WHERE w.client_id = :client_id AND w.active AND w.status IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM eff e WHERE e.status_key = lower(w.status)
                              AND e.type_key IN ('', lower(coalesce(w.type, ''))))
            GROUP BY w.status ORDER BY count(*) DESC, w.status
            """
        ),
        {"client_id": client_id},
    ).all()
    return [UnmappedStatus(str(r[0]), int(r[1])) for r in rows]
