"""Flow mapping semantics: flow steps, status mappings, issue-type mappings.

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
- The **default mapping** is proposed from each status's source category (Jira's
  `statusCategory.key`): `new` → To Do, `indeterminate` → In Progress, `done` → Done. The
  proposal only ever adds: it never changes or re-creates a mapping an operator made,
  changed or switched off.
- **Deleting a step** moves its mappings to another step and deletes it in one transaction.

The default proposal is written in `storage.flow_defaults` (the Jira sync calls it, and
pipelines may not import metrics); it is re-exported here.

`EFFECTIVE_STEP_SQL` is the one place the resolution rule is written in SQL; the flow
metrics use it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, text

from storage.flow_defaults import DEFAULT_STEPS as DEFAULT_STEPS
from storage.flow_defaults import SOURCE_CATEGORY as SOURCE_CATEGORY
from storage.flow_defaults import Proposal as Proposal
from storage.flow_defaults import propose_default_mappings as propose_default_mappings

CATEGORIES = ("todo", "in_progress", "done")
ISSUE_KINDS = ("incident", "defect", "feature", "story", "task", "other")

# CTE body: the mappings that apply (active mapping → active step), keyed by lower-cased
# status and lower-cased issue type ('' = any type). Join twice: typed first, then ''.
EFFECTIVE_MAPPINGS_SQL = """
    SELECT lower(m.status_name) AS status_key, lower(coalesce(m.issue_type, '')) AS type_key,
           f.id AS step_id, f.name AS step_name, f.category, f.position, f.is_active_work
    FROM status_mappings m
    JOIN flow_steps f ON f.id = m.flow_step_id AND f.client_id = m.client_id AND f.active
    WHERE m.client_id = :client_id AND m.active
"""


class FlowMappingError(Exception):
    """An operator's mapping change that cannot be made as asked."""

    def __init__(self, title: str, msg: str) -> None:
        super().__init__(f"{title}: {msg}")
        self.title = title
        self.msg = msg


@dataclass(frozen=True)
class FlowStep:
    id: int
    name: str
    category: str
    position: int
    is_active_work: bool
    active: bool


@dataclass(frozen=True)
class StatusMapping:
    id: int
    status_name: str
    issue_type: str | None
    step_id: int
    step_name: str
    active: bool


@dataclass(frozen=True)
class UnmappedStatus:
    name: str
    work_items: int


def list_steps(conn: Connection, client_id: int) -> list[FlowStep]:
    rows = conn.execute(
        text(
            "SELECT id, name, category, position, is_active_work, active FROM flow_steps"
            " WHERE client_id = :c ORDER BY position, id"
        ),
        {"c": client_id},
    ).all()
    return [FlowStep(*row) for row in rows]


def list_status_mappings(conn: Connection, client_id: int) -> list[StatusMapping]:
    rows = conn.execute(
        text(
            "SELECT m.id, m.status_name, m.issue_type, f.id, f.name, m.active"
            " FROM status_mappings m JOIN flow_steps f ON f.id = m.flow_step_id"
            " WHERE m.client_id = :c ORDER BY lower(m.status_name), m.issue_type NULLS FIRST"
        ),
        {"c": client_id},
    ).all()
    return [StatusMapping(*row) for row in rows]


def add_step(
    conn: Connection,
    client_id: int,
    name: str,
    category: str,
    *,
    position: int | None = None,
    is_active_work: bool = True,
) -> int:
    if category not in CATEGORIES:
        raise FlowMappingError("Unknown category", f"{category!r} is not one of {CATEGORIES}")
    step_id: int = conn.execute(
        text(
            "INSERT INTO flow_steps (client_id, name, category, position, is_active_work)"
            " VALUES (:c, :n, :cat, coalesce(:p, (SELECT coalesce(max(position) + 1, 0)"
            " FROM flow_steps WHERE client_id = :c)), :w) RETURNING id"
        ),
        {"c": client_id, "n": name, "cat": category, "p": position, "w": is_active_work},
    ).scalar_one()
    return step_id


def map_status(
    conn: Connection,
    client_id: int,
    status_name: str,
    step_id: int,
    *,
    issue_type: str | None = None,
    active: bool = True,
) -> int:
    """An operator's mapping: create it or repoint the existing one (same status and type)."""
    _require_step(conn, client_id, step_id)
    mapping_id: int = conn.execute(
        text(
            "INSERT INTO status_mappings (client_id, status_name, issue_type, flow_step_id, active)"
            " VALUES (:c, :s, :t, :f, :a)"
            " ON CONFLICT (client_id, lower(status_name), lower(coalesce(issue_type, '')))"
            " DO UPDATE SET flow_step_id = EXCLUDED.flow_step_id, active = EXCLUDED.active,"
            " status_name = EXCLUDED.status_name RETURNING id"
        ),
        {"c": client_id, "s": status_name, "t": issue_type, "f": step_id, "a": active},
    ).scalar_one()
    return mapping_id


def map_issue_type(
    conn: Connection, client_id: int, issue_type: str, kind: str, *, active: bool = True
) -> None:
    if kind not in ISSUE_KINDS:
        raise FlowMappingError("Unknown kind", f"{kind!r} is not one of {ISSUE_KINDS}")
    conn.execute(
        text(
            "INSERT INTO issue_type_mappings (client_id, issue_type, kind, active)"
            " VALUES (:c, :t, :k, :a) ON CONFLICT (client_id, lower(issue_type))"
            " DO UPDATE SET kind = EXCLUDED.kind, active = EXCLUDED.active"
        ),
        {"c": client_id, "t": issue_type, "k": kind, "a": active},
    )


def delete_step(conn: Connection, client_id: int, step_id: int, *, reassign_to: int | None) -> int:
    """Delete a flow step, first moving its mappings to `reassign_to`; all or nothing.

    Returns how many mappings moved. Refused (nothing changed) when the step still has
    mappings and no target is given, or the target is the step itself, another client's,
    or inactive.
    """
    with conn.begin_nested():
        _require_step(conn, client_id, step_id, must_be_active=False)
        count = conn.execute(
            text("SELECT count(*) FROM status_mappings WHERE client_id = :c AND flow_step_id = :s"),
            {"c": client_id, "s": step_id},
        ).scalar_one()
        if count and reassign_to is None:
            raise FlowMappingError(
                "Step still in use",
                f"{count} status mapping(s) point at this step; choose a step to move them to.",
            )
        if reassign_to is not None:
            if reassign_to == step_id:
                raise FlowMappingError("Same step", "move the mappings to a different step.")
            _require_step(conn, client_id, reassign_to)
            conn.execute(
                text(
                    "UPDATE status_mappings SET flow_step_id = :t"
                    " WHERE client_id = :c AND flow_step_id = :s"
                ),
                {"c": client_id, "s": step_id, "t": reassign_to},
            )
        conn.execute(
            text("DELETE FROM flow_steps WHERE client_id = :c AND id = :s"),
            {"c": client_id, "s": step_id},
        )
    return int(count)


def unmapped_statuses(conn: Connection, client_id: int) -> list[UnmappedStatus]:
    """Current statuses of active work items that no effective mapping covers."""
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
    return [UnmappedStatus(r[0], int(r[1])) for r in rows]


def _require_step(
    conn: Connection, client_id: int, step_id: int, *, must_be_active: bool = True
) -> None:
    row = conn.execute(
        text("SELECT active FROM flow_steps WHERE client_id = :c AND id = :s"),
        {"c": client_id, "s": step_id},
    ).first()
    if row is None:
        raise FlowMappingError("No such step", f"flow step {step_id} does not exist here.")
    if must_be_active and not row[0]:
        raise FlowMappingError("Inactive step", f"flow step {step_id} is switched off.")
