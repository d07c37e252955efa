"""Queries a planning source (Aha!) needs beyond `storage.load.upsert`: releases, goals and
the work items they hold, requirements under their features, and per-product deactivation.

Every function runs in the caller's transaction. ``client_id``/``integration_id`` name the
integration whose rows are meant.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, delete, select, update

from storage.models import (
    Goal,
    Release,
    WorkItem,
    WorkItemGoal,
    WorkItemLink,
    WorkItemRelease,
    WorkItemTransition,
)
from storage.source_ids import ids_by_external_id

Owned = type[WorkItemTransition] | type[WorkItemLink] | type[WorkItemRelease] | type[WorkItemGoal]
Plan = type[Release] | type[Goal]


def ids_of(
    conn: Connection, client_id: int, integration_id: int, model: Plan, external_ids: Iterable[str]
) -> dict[str, int]:
    """``external_id → id`` of the releases (or goals) of these ids already stored."""
    return ids_by_external_id(conn, model, client_id, integration_id, external_ids)


def remove_others(
    conn: Connection,
    model: Owned,
    work_item_ids: Sequence[int],
    kept: Iterable[int],
    *where: Any,
) -> None:
    """Delete the rows of these work items (matching ``where``) whose ids are not ``kept``:
    what the items' latest payload no longer carries."""
    if not work_item_ids:
        return
    conn.execute(
        delete(model).where(
            model.work_item_id.in_(list(work_item_ids)), model.id.not_in(list(kept)), *where
        )
    )


def stored_statuses(
    conn: Connection, client_id: int, integration_id: int, external_ids: Iterable[str]
) -> dict[str, tuple[str | None, datetime | None]]:
    """``external_id → (status, resolved_at)`` of these work items as stored."""
    wanted = list(external_ids)
    if not wanted:
        return {}
    rows = conn.execute(
        select(WorkItem.external_id, WorkItem.status, WorkItem.resolved_at).where(
            WorkItem.client_id == client_id,
            WorkItem.integration_id == integration_id,
            WorkItem.external_id.in_(wanted),
        )
    )
    return {r.external_id: (r.status, r.resolved_at) for r in rows}


def deactivate_requirements(
    conn: Connection, client_id: int, integration_id: int, features: dict[str, list[str]]
) -> int:
    """Requirements of these features (``feature id → requirement ids``) they no longer
    list; one statement (requirement ids are unique across features)."""
    if not features:
        return 0
    keep = [r for ids in features.values() for r in ids]
    result = conn.execute(
        update(WorkItem)
        .where(
            WorkItem.client_id == client_id,
            WorkItem.integration_id == integration_id,
            WorkItem.type == "Requirement",
            WorkItem.active.is_(True),
            WorkItem.custom_fields["feature_id"].astext.in_(list(features)),
            WorkItem.external_id.not_in(keep),
        )
        .values(active=False)
    )
    return int(result.rowcount)


def deactivate_missing_in_product(
    conn: Connection,
    client_id: int,
    integration_id: int,
    model: type[WorkItem] | Plan,
    project_key: str,
    seen: list[str],
    *,
    work_type: str | None = None,
    goal_kind: str | None = None,
) -> int:
    """Active rows of one product (and work item type / goal kind) whose id is not in
    ``seen`` → inactive. A deactivated feature takes its requirements with it."""
    conditions = [
        model.client_id == client_id,
        model.integration_id == integration_id,
        model.project_key == project_key,
        model.active.is_(True),
        model.external_id.not_in(seen),
    ]
    if work_type is not None:
        conditions.append(WorkItem.type == work_type)
    if goal_kind is not None:
        conditions.append(Goal.kind == goal_kind)
    gone = list(
        conn.execute(
            update(model).where(and_(*conditions)).values(active=False).returning(model.external_id)
        ).scalars()
    )
    if gone and work_type == "Feature":
        conn.execute(
            update(WorkItem)
            .where(
                WorkItem.client_id == client_id,
                WorkItem.integration_id == integration_id,
                WorkItem.type == "Requirement",
                WorkItem.custom_fields["feature_id"].astext.in_(gone),
            )
            .values(active=False)
        )
    return len(gone)
