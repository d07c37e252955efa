"""Writing Aha! rows: products, releases, goals, one page of work items, deactivation.

Every function runs in the caller's transaction (`pipelines.checkpoint.commit_batch`: a
page's rows, its quarantined payloads and its checkpoint commit together) and goes through
`storage.load.upsert` and `storage.plans`, so re-loading a page changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection

from pulse_console.pipelines.aha import transform
from pulse_console.pipelines.aha.transform import ItemRows, Stored
from pulse_console.pipelines.jira.transform import Row, Tenant
from storage import plans, status_spans
from storage.load import deactivate_missing, upsert
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
    deactivate_missing(
        conn, Project, t.client_id, t.integration_id, [r["external_id"] for r in rows]
    )
    return written


def load_plans(conn: Connection, model: type[Release] | type[Goal], rows: Sequence[Row]) -> int:
    return upsert(conn, model, rows).written


def stored(conn: Connection, t: Tenant, external_ids: Iterable[str]) -> dict[str, Stored]:
    """The records' status and resolution as stored (before their page is loaded)."""
    found = plans.stored_statuses(conn, t.client_id, t.integration_id, external_ids)
    return {k: Stored(status, resolved) for k, (status, resolved) in found.items()}


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
    plans.remove_others(
        conn, WorkItemTransition, with_history, (kept.ids or {}).values(),
        WorkItemTransition.field == "status",
    )  # fmt: skip
    status_spans.refresh_items(conn, work_ids)

    links = [{**row, "work_item_id": ids[i.item["external_id"]]} for i in items for row in i.links]
    kept = upsert(conn, WorkItemLink, links, return_ids=True)
    counts.links = kept.written
    plans.remove_others(
        conn, WorkItemLink, work_ids, (kept.ids or {}).values(),
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


def load_statuses(conn: Connection, rows: Iterable[Row]) -> None:
    unique = list({r["external_id"]: r for r in rows}.values())
    upsert(conn, Status, unique)


def deactivate_requirements(conn: Connection, t: Tenant, features: dict[str, list[str]]) -> int:
    """Requirements of these features (``feature_id → requirement ids``) they no longer list."""
    return plans.deactivate_requirements(conn, t.client_id, t.integration_id, features)


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
    """Rows of one product (and type/kind) whose id the source no longer lists → inactive."""
    return plans.deactivate_missing_in_product(
        conn, t.client_id, t.integration_id, model, prefix, ids,
        work_type=work_type, goal_kind=goal_kind,
    )  # fmt: skip


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
    wanted = {x for xs in targets.values() for x in xs}
    plan_ids = plans.ids_of(conn, t.client_id, t.integration_id, plan, wanted)
    rows = [
        {"client_id": t.client_id, "work_item_id": ids[item], column: plan_ids[x]}
        for item, xs in targets.items()
        for x in xs
        if x in plan_ids
    ]
    kept = upsert(conn, link, rows, return_ids=True)
    plans.remove_others(conn, link, [ids[i] for i in targets], (kept.ids or {}).values())
    return kept.written
