"""Writing Aha! rows: products, releases, goals, one page of work items, deactivation.

Every function runs in the caller's transaction (a page's rows commit with its checkpoint)
and goes through ``storage.load.upsert``, so re-loading a page changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, and_, delete, select, update

from pulse_console.pipelines.aha import transform
from pulse_console.pipelines.aha.transform import ItemRows, Stored
from pulse_console.pipelines.jira.transform import Row, Tenant
from storage import status_spans
from storage.load import upsert
from storage.models import (
    Goal,
    Project,
    Release,
    SourceUser,
    Status,
    WorkItem,
    WorkItemGoal,
    WorkItemLink,
    WorkItemRelease,
    WorkItemTransition,
)

_Owned = type[WorkItemTransition] | type[WorkItemLink] | type[WorkItemRelease] | type[WorkItemGoal]


@dataclass
class Counts:
    """What loading did; added up over a run for the summary."""

    records: int = 0  # records the lists returned
    requirements: int = 0  # requirements that came inside their features
    inserted: int = 0
    updated: int = 0
    transitions: int = 0
    links: int = 0
    releases: int = 0
    goals: int = 0
    quarantined: int = 0
    deactivated: int = 0

    def add(self, other: Counts) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def as_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def load_products(conn: Connection, t: Tenant, rows: Sequence[Row]) -> int:
    """Upsert the synced products as projects; products no longer synced become inactive."""
    written = upsert(conn, Project, rows).written
    conn.execute(
        update(Project)
        .where(
            Project.client_id == t.client_id,
            Project.integration_id == t.integration_id,
            Project.active.is_(True),
            Project.external_id.not_in([r["external_id"] for r in rows]),
        )
        .values(active=False)
    )
    return written


def load_plans(conn: Connection, model: type[Release] | type[Goal], rows: Sequence[Row]) -> int:
    return upsert(conn, model, rows).written


def load_items(
    conn: Connection, t: Tenant, items: Sequence[ItemRows], users: Sequence[Row]
) -> Counts:
    """Work items with their status changes, links to other sources, releases and goals.

    What the page's items no longer carry (a link removed, a goal unset, a history the
    source rewrote) is removed, so the stored item always equals its latest payload.
    """
    counts = Counts()
    if not items:
        return counts
    # People first seen in records are added; their later details win on the next sight.
    upsert(conn, SourceUser, list({u["external_id"]: u for u in users}.values()))
    result = upsert(conn, WorkItem, [i.item for i in items], return_ids=True)
    counts.inserted, counts.updated = result.inserted, result.updated
    assert result.ids is not None
    ids = {key[2]: row_id for key, row_id in result.ids.items()}
    work_ids = [ids[i.item["external_id"]] for i in items]

    transitions = [
        {**row, "work_item_id": ids[i.item["external_id"]]} for i in items for row in i.transitions
    ]
    kept = upsert(conn, WorkItemTransition, transitions, return_ids=True)
    counts.transitions = kept.written
    # Only a record that carries its whole history replaces its changes; changes seen
    # between syncs are all the history there is, so they stay.
    with_history = [ids[i.item["external_id"]] for i in items if i.has_history]
    _remove_others(
        conn, WorkItemTransition, WorkItemTransition.work_item_id, with_history, kept.ids,
        WorkItemTransition.field == "status",
    )  # fmt: skip
    status_spans.refresh_items(conn, work_ids)

    links = [{**row, "work_item_id": ids[i.item["external_id"]]} for i in items for row in i.links]
    kept = upsert(conn, WorkItemLink, links, return_ids=True)
    counts.links = kept.written
    _remove_others(
        conn, WorkItemLink, WorkItemLink.work_item_id, work_ids, kept.ids,
        WorkItemLink.evidence == transform.EVIDENCE_INTEGRATION,
    )  # fmt: skip

    by_item = {i.item["external_id"]: i for i in items}
    counts.releases = _link_plans(
        conn, t, ids, {k: i.releases for k, i in by_item.items()}, Release, WorkItemRelease
    )
    counts.goals = _link_plans(
        conn, t, ids, {k: i.goals for k, i in by_item.items()}, Goal, WorkItemGoal
    )
    return counts


def stored_rows(conn: Connection, t: Tenant, external_ids: list[str]) -> dict[str, Stored]:
    """Status and resolution of these records as stored (before the page is loaded)."""
    if not external_ids:
        return {}
    rows = conn.execute(
        select(WorkItem.external_id, WorkItem.status, WorkItem.resolved_at).where(
            WorkItem.client_id == t.client_id,
            WorkItem.integration_id == t.integration_id,
            WorkItem.external_id.in_(external_ids),
        )
    )
    return {r.external_id: Stored(r.status, r.resolved_at) for r in rows}


def load_statuses(conn: Connection, rows: Iterable[Row]) -> None:
    unique = list({r["external_id"]: r for r in rows}.values())
    upsert(conn, Status, unique)


def deactivate_requirements(conn: Connection, t: Tenant, features: dict[str, list[str]]) -> int:
    """Requirements of these features (``feature_id → requirement ids``) they no longer list.

    One statement per page (requirement ids are unique across features)."""
    if not features:
        return 0
    keep = [r for ids in features.values() for r in ids]
    result = conn.execute(
        update(WorkItem)
        .where(
            WorkItem.client_id == t.client_id,
            WorkItem.integration_id == t.integration_id,
            WorkItem.type == "Requirement",
            WorkItem.active.is_(True),
            WorkItem.custom_fields["feature_id"].astext.in_(list(features)),
            WorkItem.external_id.not_in(keep),
        )
        .values(active=False)
    )
    return result.rowcount


def reconcile(
    conn: Connection,
    t: Tenant,
    model: type[WorkItem] | type[Release] | type[Goal],
    prefix: str,
    ids: list[str],
    *,
    work_type: str | None = None,
    goal_kind: str | None = None,
) -> int:
    """Rows of one product (and type/kind) whose id the source no longer lists → inactive.

    A deactivated feature takes its requirements with it.
    """
    conditions = [
        model.client_id == t.client_id,
        model.integration_id == t.integration_id,
        model.project_key == prefix,
        model.active.is_(True),
        model.external_id.not_in(ids),
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
                WorkItem.client_id == t.client_id,
                WorkItem.integration_id == t.integration_id,
                WorkItem.type == "Requirement",
                WorkItem.custom_fields["feature_id"].astext.in_(gone),
            )
            .values(active=False)
        )
    return len(gone)


def _link_plans(
    conn: Connection,
    t: Tenant,
    ids: dict[str, int],
    targets: dict[str, list[str]],
    plan: type[Release] | type[Goal],
    link: type[WorkItemRelease] | type[WorkItemGoal],
) -> int:
    """Each item's links to releases (or goals), ``targets`` by external ids; the items' other
    links of that kind are removed. Targets not stored (yet) are skipped."""
    column = "release_id" if link is WorkItemRelease else "goal_id"
    plan_ids = _ids_of(conn, t, plan, {x for xs in targets.values() for x in xs})
    rows = [
        {"client_id": t.client_id, "work_item_id": ids[item], column: plan_ids[x]}
        for item, xs in targets.items()
        for x in xs
        if x in plan_ids
    ]
    kept = upsert(conn, link, rows, return_ids=True)
    _remove_others(conn, link, link.work_item_id, list(ids[i] for i in targets), kept.ids)
    return kept.written


def _ids_of(
    conn: Connection, t: Tenant, model: type[Release] | type[Goal], external_ids: set[str]
) -> dict[str, int]:
    if not external_ids:
        return {}
    rows = conn.execute(
        select(model.external_id, model.id).where(
            model.client_id == t.client_id,
            model.integration_id == t.integration_id,
            model.external_id.in_(list(external_ids)),
        )
    )
    return {r.external_id: r.id for r in rows}


def _remove_others(
    conn: Connection,
    model: type[WorkItemTransition]
    | type[WorkItemLink]
    | type[WorkItemRelease]
    | type[WorkItemGoal],
    owner: object,
    work_ids: list[int],
    kept: dict[tuple[object, ...], int] | None,
    *extra: object,
) -> None:
    """Delete the rows of these work items that the page did not write."""
    keep = list((kept or {}).values())
    conn.execute(
        delete(model).where(
            owner.in_(work_ids),  # type: ignore[attr-defined]
            model.id.not_in(keep),
            *extra,  # type: ignore[arg-type]
        )
    )
