"""Aha! payloads (validated models) → rows of the canonical schema. Pure functions, no I/O.

- features, epics, requirements and ideas → ``work_items`` (``source='aha'``, ``type``
  Feature/Epic/Requirement/Idea, ``key`` the reference number, ``project_key`` the product's
  reference prefix, ``status`` the workflow status name); custom fields by name, plus an
  idea's ``votes`` and the references the record points at;
- status history → ``work_item_transitions`` (``field='status'``) from the record's own
  ``workflow_status_times`` (its history as Aha! keeps it; UNVERIFIED field, see
  ``connectors.aha.models.StatusTime``) — one row per change, keyed ``<record id>/status/<n>``;
  ``resolved_at`` is when the current status began, if that status is a complete one. A
  record that comes without that field falls back to the changes seen between syncs: a
  status different from the stored one is one change at the record's ``updated_at`` (keyed
  ``<record id>/seen/<updated_at>``), and ``resolved_at`` is when a complete status was
  first seen;
- Jira/Azure DevOps integration fields → ``work_item_links`` (``kind`` the service,
  ``url`` the linked key, ``detail`` the linked URL);
- releases → ``releases``; goals and initiatives → ``goals`` (``kind``); products →
  ``projects``; people → ``source_users``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from connectors.aha.models import (
    Epic,
    Feature,
    Goal,
    Idea,
    Initiative,
    Product,
    Release,
    Requirement,
    UserRef,
    WorkflowStatus,
)
from pulse_console.pipelines.jira.transform import Row, Tenant

SOURCE = "aha"
EVIDENCE_INTEGRATION = "integration_field"
LINKED_SERVICES = {"jira": "jira", "azure_devops": "azure_devops", "tfs": "azure_devops"}
"""``service_name`` of an integration field → ``work_item_links.kind`` (Azure DevOps'
service name in Aha! is UNVERIFIED; both spellings are accepted)."""

Record = Feature | Epic | Requirement | Idea
TYPE_NAMES: dict[type, str] = {
    Feature: "Feature",
    Epic: "Epic",
    Requirement: "Requirement",
    Idea: "Idea",
}


@dataclass(frozen=True)
class Stored:
    """What the table held for a record before this page (for the between-syncs fallback)."""

    status: str | None
    resolved_at: datetime | None


@dataclass
class ItemRows:
    """Everything one work item contributes, keyed by its external id."""

    item: Row
    transitions: list[Row] = field(default_factory=list)
    links: list[Row] = field(default_factory=list)  # without work_item_id
    releases: list[str] = field(default_factory=list)  # release external ids
    goals: list[str] = field(default_factory=list)  # goal/initiative external ids
    requirements: list[Requirement] = field(default_factory=list)  # a feature's, to load too
    has_history: bool = True  # False: transitions come from changes seen between syncs


def project_row(t: Tenant, product: Product) -> Row:
    return t.stamp(
        {
            "external_id": product.id,
            "key": product.reference_prefix,
            "name": product.name,
            "raw": product.model_dump(mode="json"),
            "active": True,
        }
    )


def status_row(t: Tenant, status: WorkflowStatus) -> Row:
    category = "done" if status.complete else ("new" if status.position == 1 else "indeterminate")
    return t.stamp(
        {
            "external_id": status.id,
            "name": status.name,
            "category": category,
            "category_name": {"done": "Done", "new": "To Do"}.get(category, "In Progress"),
            "raw": status.model_dump(mode="json"),
        }
    )


def user_row(t: Tenant, user: UserRef) -> Row:
    return t.stamp(
        {
            "external_id": user.id,
            "display_name": user.name,
            "email": user.email,
            "active": True,
            "raw": user.model_dump(mode="json"),
        }
    )


def people_of(record: Record) -> list[UserRef]:
    return [u for u in (record.assigned_to_user, record.created_by_user) if u is not None]


def release_row(t: Tenant, release: Release, prefix: str) -> Row:
    released = release.released
    if released is None:
        complete = release.workflow_status is not None and bool(release.workflow_status.complete)
        released = release.released_on is not None or complete
    return t.stamp(
        {
            "source": SOURCE,
            "external_id": release.id,
            "key": release.reference_num,
            "name": release.name,
            "project_key": prefix,
            "status": release.workflow_status.name if release.workflow_status else None,
            "start_date": release.start_date,
            "release_date": release.release_date,
            "released": released,
            "created_at": release.created_at,
            "updated_at": release.updated_at,
            "raw": release.model_dump(mode="json"),
            "active": True,
        }
    )


def goal_row(t: Tenant, goal: Goal, prefix: str) -> Row:
    kind = "initiative" if isinstance(goal, Initiative) else "goal"
    status = goal.status or (goal.workflow_status.name if goal.workflow_status else None)
    return t.stamp(
        {
            "source": SOURCE,
            "kind": kind,
            "external_id": goal.id,
            "key": goal.reference_num,
            "name": goal.name,
            "project_key": prefix,
            "status": status,
            "progress": goal.progress,
            "start_date": goal.start_date,
            "end_date": goal.end_date,
            "created_at": goal.created_at,
            "updated_at": goal.updated_at,
            "raw": goal.model_dump(mode="json"),
            "active": True,
        }
    )


def item_rows(
    t: Tenant,
    record: Record,
    prefix: str,
    parent: Feature | None = None,
    stored: Stored | None = None,
) -> ItemRows:
    """The work item row and what hangs off it (``stored``: the row as the table holds it)."""
    status = record.workflow_status
    has_history = record.workflow_status_times is not None
    resolved_at = None
    if status is not None and status.complete:
        if record.workflow_status_times:
            resolved_at = record.workflow_status_times[-1].started_at
        elif not has_history:
            kept = stored.resolved_at if stored is not None else None
            resolved_at = kept or record.updated_at
    custom: dict[str, Any] = {f.name: f.value for f in record.custom_fields}
    if record.tags:
        custom["tags"] = record.tags
    releases: list[str] = []
    goals: list[str] = []
    requirements: list[Requirement] = []
    if isinstance(record, Feature | Epic):
        if record.release is not None:
            releases.append(record.release.id)
            custom["release"] = record.release.reference_num
        goals.extend(g.id for g in record.goals)
        if record.initiative is not None:
            goals.append(record.initiative.id)
            custom["initiative"] = record.initiative.reference_num
        if record.progress is not None:
            custom["progress"] = record.progress
    if isinstance(record, Feature):
        if record.epic is not None:
            custom["epic"] = record.epic.reference_num
        requirements = list(record.requirements)
    if isinstance(record, Idea):
        custom["votes"] = record.votes if record.votes is not None else record.endorsements_count
        if record.feature is not None:
            custom["feature"] = record.feature.reference_num
            custom["feature_id"] = record.feature.id
    if parent is not None:
        custom["feature"] = parent.reference_num
        custom["feature_id"] = parent.id
    item = t.stamp(
        {
            "source": SOURCE,
            "external_id": record.id,
            "key": record.reference_num,
            "project_key": prefix,
            "type": TYPE_NAMES[type(record)],
            "status": status.name if status else None,
            "priority": None,
            "summary": record.name,
            "assignee": record.assigned_to_user.id if record.assigned_to_user else None,
            "created_at": record.created_at,
            "updated_at": record.updated_at,
            "resolved_at": resolved_at,
            "custom_fields": custom,
            "raw": _raw(record),
            "active": True,
        }
    )
    transitions = transition_rows(t, record) if has_history else seen_change(t, record, stored)
    return ItemRows(
        item=item,
        has_history=has_history,
        transitions=transitions,
        links=link_rows(t, record),
        releases=releases,
        goals=goals,
        requirements=requirements,
    )


def transition_rows(t: Tenant, record: Record) -> list[Row]:
    """One ``status`` row per change in the record's status history (without work_item_id)."""
    stays = record.workflow_status_times or []
    rows: list[Row] = []
    for n in range(1, len(stays)):
        before, after = stays[n - 1], stays[n]
        rows.append(
            t.stamp(
                {
                    "external_id": status_change_id(record.id, n),
                    "item_index": 0,
                    "field": "status",
                    "field_id": "workflow_status",
                    "from_value": before.status_name,
                    "to_value": after.status_name,
                    "from_id": before.status_id,
                    "to_id": after.status_id,
                    "author": None,
                    "changed_at": after.started_at,
                }
            )
        )
    return rows


def seen_change(t: Tenant, record: Record, stored: Stored | None) -> list[Row]:
    """The status change between the stored row and this payload, if any (no history)."""
    now = record.workflow_status.name if record.workflow_status else None
    if stored is None or stored.status == now or record.updated_at is None:
        return []
    return [
        t.stamp(
            {
                "external_id": f"{record.id}/seen/{record.updated_at.isoformat()}",
                "item_index": 0,
                "field": "status",
                "field_id": "workflow_status",
                "from_value": stored.status,
                "to_value": now,
                "from_id": None,
                "to_id": record.workflow_status.id if record.workflow_status else None,
                "author": None,
                "changed_at": record.updated_at,
            }
        )
    ]


def status_change_id(record_id: str, n: int) -> str:
    return f"{record_id}/status/{n}"


def link_rows(t: Tenant, record: Record) -> list[Row]:
    """A ``jira``/``azure_devops`` link per linked record: ``url`` is the linked key."""
    by_service: dict[str, dict[str, str]] = {}
    for f in record.integration_fields:
        kind = LINKED_SERVICES.get((f.service_name or "").lower())
        if kind is None or f.value is None:
            continue
        by_service.setdefault(kind, {})[f.name.lower()] = f.value
    rows: list[Row] = []
    for kind, values in sorted(by_service.items()):
        key = values.get("key") or values.get("id")
        if key is None:
            continue
        rows.append(
            {
                "client_id": t.client_id,
                "kind": kind,
                "url": key,
                "repository": None,
                "pull_request_number": None,
                "evidence": EVIDENCE_INTEGRATION,
                "detail": values.get("url"),
            }
        )
    return rows


def _raw(record: Record) -> dict[str, Any]:
    # A feature's requirements are work items of their own: not copied into its raw JSON.
    data: dict[str, Any] = record.model_dump(mode="json", exclude={"requirements"})
    return data


def newest(values: list[datetime | None]) -> datetime | None:
    present = [v for v in values if v is not None]
    return max(present) if present else None
