"""Writing Jira rows: metadata, one page of issues, reconciliation.

Every function runs in the caller's transaction (`pipelines.checkpoint.commit_batch`: the
page's rows, its quarantined payloads and its checkpoint commit together) and goes through
`storage.load.upsert` and `storage.work_items`, so re-loading a page changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection

from connectors.jira.models import ChangeHistory, DevStatusDetail, Issue
from pulse_console.pipelines.jira import transform
from pulse_console.pipelines.jira.transform import Row, Tenant
from storage import status_spans, work_items
from storage.load import deactivate_missing, upsert
from storage.models import (
    IssueType,
    Project,
    SourceField,
    SourceUser,
    Status,
    WorkItem,
    WorkItemLink,
    WorkItemTransition,
)

WORK_ITEM_VERSION = ("updated_at", "key", "active", "dev_summary")
"""Jira bumps ``updated`` on every edit of an issue (a move changes its key); the development
summary changes without it. A row with the same version is not sent again."""


@dataclass
class PageCounts:
    """What loading did; added up over a run for the summary."""

    issues: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    transitions: int = 0
    links: int = 0
    links_removed: int = 0
    quarantined: int = 0
    deactivated: int = 0

    def add(self, other: PageCounts) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def as_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


@dataclass
class IssuePage:
    """One page ready to load: issues whose rows are written, with what was fetched."""

    issues: list[Issue]
    histories: Mapping[str, list[ChangeHistory]]
    dev_status: Mapping[str, DevStatusDetail] = field(default_factory=dict)
    dev_summaries: Mapping[str, str | None] = field(default_factory=dict)
    """Issue id → the development summary its stored links reflect (``dev_summary``)."""
    skipped: int = 0


@dataclass
class PageRows:
    """One page's rows, built where the page was fetched (a window's thread), so the one
    writer only writes them. Keyed by issue id; ``work_item_id`` of transitions and links
    is filled in by `load_page` once the items' ids are known."""

    items: dict[str, Row] = field(default_factory=dict)
    people: dict[str, Row] = field(default_factory=dict)
    """User external id → row: people first seen in issues."""
    transitions: dict[str, list[Row]] = field(default_factory=dict)
    links: dict[str, list[Row]] = field(default_factory=dict)
    """The dev-status links of the issues whose links were fetched (maybe none)."""
    spans: dict[str, list[Row]] = field(default_factory=dict)
    """Each issue's status spans from its transitions above (`status_spans.spans_of`):
    written as they are for an issue new to the database, whose changelog the page holds
    whole; an issue stored before has its spans recomputed from what is stored."""
    skipped: int = 0

    @classmethod
    def merged(cls, pages: Sequence[PageRows]) -> PageRows:
        """Several pages as one, loaded in one go (a later page's issue replaces an
        earlier one's, as loading them in turn would)."""
        if len(pages) == 1:
            return pages[0]
        out = cls()
        for page in pages:
            for issue_id, row in page.items.items():
                out.items.pop(issue_id, None)  # keeps the later page's place and version
                out.items[issue_id] = row
                out.links.pop(issue_id, None)
            for user_id, user in page.people.items():
                out.people.setdefault(user_id, user)
            out.transitions.update(page.transitions)
            out.spans.update(page.spans)
            out.links.update(page.links)
            out.skipped += page.skipped
        return out


def page_rows(t: Tenant, page: IssuePage, names: Mapping[str, str]) -> PageRows:
    """The rows of ``page`` (pure: no database)."""
    rows = PageRows(skipped=page.skipped)
    people = rows.people
    for issue in page.issues:
        histories = page.histories.get(issue.id, [])
        for user in transform.people_of(issue, histories):
            # Each person once per page (the first mention, as before): the same few
            # people are the assignee, reporter and authors of most changes.
            identity = user.identity
            if identity and identity not in people:
                row = transform.user_row(t, user)
                if row is not None:
                    people[identity] = row
        row = transform.work_item_row(t, issue, names)
        row["dev_summary"] = page.dev_summaries.get(issue.id)
        rows.items[issue.id] = row
        transitions = transform.transition_rows(t, _LATER, histories)
        rows.transitions[issue.id] = transitions
        rows.spans[issue.id] = status_spans.spans_of(row, transitions)
    for issue_id, detail in page.dev_status.items():
        if issue_id in rows.items:
            rows.links[issue_id] = transform.link_rows(t.client_id, _LATER, detail)
    return rows


_LATER = 0
"""``work_item_id`` of a page's rows until `load_page` knows the item's id."""


def load_metadata(
    conn: Connection,
    t: Tenant,
    *,
    projects: Sequence[Row],
    statuses: Sequence[Row],
    issue_types: Sequence[Row],
    fields: Sequence[Row],
    users: Sequence[Row],
) -> dict[str, int]:
    """Upsert site metadata; projects no longer visible are marked inactive."""
    counts: dict[str, int] = {}
    for name, model, rows in (
        ("projects", Project, projects),
        ("statuses", Status, statuses),
        ("issue_types", IssueType, issue_types),
        ("fields", SourceField, fields),
        ("users", SourceUser, users),
    ):
        counts[name] = upsert(conn, model, rows).written
    seen = [r["external_id"] for r in projects]
    counts["projects_deactivated"] = deactivate_missing(
        conn, Project, t.client_id, t.integration_id, seen
    )
    return counts


def load_page(
    conn: Connection, t: Tenant, rows: PageRows, *, compare_versions: bool = True
) -> PageCounts:
    """Work items, their transitions, dev-status links and the people they mention.

    ``compare_versions=False`` (a run that started with none of the integration's items
    stored) sends every work item without first asking which stored versions are the same:
    that probe finds nothing there, and costs the writer two round trips per page."""
    counts = PageCounts(issues=len(rows.items) + rows.skipped, skipped=rows.skipped)
    if not rows.items:
        return counts
    # People first seen in issues are added; the users listing owns their details.
    upsert(conn, SourceUser, list(rows.people.values()), update=[])

    items = upsert(
        conn,
        WorkItem,
        list(rows.items.values()),
        return_ids=True,
        version=WORK_ITEM_VERSION if compare_versions else (),
    )
    counts.inserted, counts.updated, counts.unchanged = (
        items.inserted,
        items.updated,
        items.unchanged,
    )
    assert items.ids is not None
    ids = {key[2]: row_id for key, row_id in items.ids.items()}

    transitions: list[Row] = []
    for issue_id, issue_transitions in rows.transitions.items():
        for row in issue_transitions:
            row["work_item_id"] = ids[issue_id]
        transitions.extend(issue_transitions)
    counts.transitions = upsert(conn, WorkItemTransition, transitions).written
    # The flow metrics read these items' status timelines: written with the rows. Items
    # this page inserted (all of a first sync's) take the spans built with the rows; the
    # others' are recomputed from what is stored (older changes may be there).
    new = {key[2] for key in items.new} if items.new is not None else set()
    status_spans.insert_new(conn, {ids[i]: rows.spans[i] for i in new if i in rows.spans})
    status_spans.refresh_items(conn, [ids[i] for i in ids if i not in new or i not in rows.spans])

    if rows.links:
        links: list[Row] = []
        for issue_id, issue_links in rows.links.items():
            for row in issue_links:
                row["work_item_id"] = ids[issue_id]
            links.extend(issue_links)
        result = upsert(conn, WorkItemLink, links, return_ids=True)
        counts.links = result.written
        kept = set((result.ids or {}).values())
        counts.links_removed = work_items.remove_stale_links(
            conn,
            t.client_id,
            [ids[i] for i in rows.links],
            transform.EVIDENCE_DEV_STATUS,
            kept,
        )
    return counts


def stored_versions(
    conn: Connection, t: Tenant, issue_ids: Iterable[str]
) -> dict[str, tuple[datetime | None, str | None, bool]]:
    """``external_id → (updated_at, key, active)`` of the given issues already stored."""
    return work_items.stored_versions(conn, t.client_id, t.integration_id, issue_ids)


def any_stored(conn: Connection, t: Tenant) -> bool:
    """Whether the integration has any work item stored (active or not)."""
    return work_items.any_stored(conn, t.client_id, t.integration_id)


def stored_dev_summaries(
    conn: Connection, t: Tenant, issue_ids: Iterable[str]
) -> dict[str, str | None]:
    """``external_id → dev_summary`` of the given issues already stored."""
    return work_items.stored_dev_summaries(conn, t.client_id, t.integration_id, issue_ids)


def reconcile(conn: Connection, t: Tenant, source_ids: Iterable[str]) -> tuple[int, list[str]]:
    """Deactivate issues the source no longer shows; the ids to fetch again (see
    `storage.work_items.reconcile`)."""
    return work_items.reconcile(conn, t.client_id, t.integration_id, source_ids)


def quality_summary(conn: Connection, t: Tenant) -> dict[str, int]:
    """Data-quality counts after a run (shown in the summary; nothing is changed)."""
    return work_items.quality_summary(conn, t.client_id, t.integration_id)
