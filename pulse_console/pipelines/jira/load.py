"""Writing Jira rows: metadata, one page of issues, quarantine, deactivation.

Every function runs in the caller's transaction (the page's rows and its checkpoint commit
together) and goes through `storage.load.upsert`, so re-loading a page changes nothing.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from psycopg import sql
from sqlalchemy import Connection, delete, insert, select, text, update

from connectors.jira.models import ChangeHistory, DevStatusDetail, Issue
from connectors.validation import Rejected
from pulse_console.pipelines.jira import transform
from pulse_console.pipelines.jira.transform import Row, Tenant
from storage import status_spans
from storage.load import upsert
from storage.models import (
    IssueType,
    Project,
    QuarantinedPayload,
    SourceField,
    SourceUser,
    Status,
    WorkItem,
    WorkItemLink,
    WorkItemTransition,
)

_temp_names = itertools.count()


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
    skipped: int = 0


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
    result = conn.execute(
        update(Project)
        .where(
            Project.client_id == t.client_id,
            Project.integration_id == t.integration_id,
            Project.active.is_(True),
            Project.external_id.not_in(seen),
        )
        .values(active=False)
    )
    counts["projects_deactivated"] = result.rowcount
    return counts


def load_page(conn: Connection, t: Tenant, page: IssuePage, names: Mapping[str, str]) -> PageCounts:
    """Work items, their transitions, dev-status links and the people they mention."""
    counts = PageCounts(issues=len(page.issues) + page.skipped, skipped=page.skipped)
    if not page.issues:
        return counts
    people: dict[str, Row] = {}
    for issue in page.issues:
        for user in transform.people_of(issue, page.histories.get(issue.id, [])):
            row = transform.user_row(t, user)
            if row is not None:
                people.setdefault(row["external_id"], row)
    # People first seen in issues are added; the users listing owns their details.
    upsert(conn, SourceUser, list(people.values()), update=[])

    items = upsert(
        conn,
        WorkItem,
        [transform.work_item_row(t, issue, names) for issue in page.issues],
        return_ids=True,
    )
    counts.inserted, counts.updated, counts.unchanged = (
        items.inserted,
        items.updated,
        items.unchanged,
    )
    assert items.ids is not None
    ids = {key[2]: row_id for key, row_id in items.ids.items()}

    transitions: list[Row] = []
    for issue in page.issues:
        transitions.extend(
            transform.transition_rows(t, ids[issue.id], page.histories.get(issue.id, []))
        )
    counts.transitions = upsert(conn, WorkItemTransition, transitions).written
    # The flow metrics read these items' status timelines; refresh them with the rows.
    status_spans.refresh_items(conn, list(ids.values()))

    if page.dev_status:
        links: list[Row] = []
        for issue_id, detail in page.dev_status.items():
            if issue_id in ids:
                links.extend(transform.link_rows(t.client_id, ids[issue_id], detail))
        result = upsert(conn, WorkItemLink, links, return_ids=True)
        counts.links = result.written
        kept = set((result.ids or {}).values())
        counts.links_removed = _remove_stale_links(
            conn, t.client_id, [ids[i] for i in page.dev_status if i in ids], kept
        )
    return counts


def _remove_stale_links(
    conn: Connection, client_id: int, work_item_ids: list[int], kept: set[int]
) -> int:
    """Dev-status links the panel no longer shows for these items (unlinked, deleted PRs)."""
    if not work_item_ids:
        return 0
    stale = conn.execute(
        select(WorkItemLink.id).where(
            WorkItemLink.client_id == client_id,
            WorkItemLink.work_item_id.in_(work_item_ids),
            WorkItemLink.evidence == transform.EVIDENCE_DEV_STATUS,
        )
    ).scalars()
    doomed = [i for i in stale if i not in kept]
    if not doomed:
        return 0
    conn.execute(delete(WorkItemLink).where(WorkItemLink.id.in_(doomed)))
    return len(doomed)


def stored_versions(
    conn: Connection, t: Tenant, issue_ids: Iterable[str]
) -> dict[str, tuple[datetime | None, str | None, bool]]:
    """``external_id → (updated_at, key, active)`` of the given issues already stored."""
    wanted = list(issue_ids)
    if not wanted:
        return {}
    rows = conn.execute(
        select(WorkItem.external_id, WorkItem.updated_at, WorkItem.key, WorkItem.active).where(
            WorkItem.client_id == t.client_id,
            WorkItem.integration_id == t.integration_id,
            WorkItem.external_id.in_(wanted),
        )
    )
    return {r.external_id: (r.updated_at, r.key, r.active) for r in rows}


@dataclass(frozen=True)
class BadResponse:
    """A whole response that could not be read (not JSON, or not the expected shape)."""

    kind: str
    raw_text: str
    error: str
    source: str = ""
    external_id: str | None = None


def quarantine(
    conn: Connection,
    t: Tenant,
    run_id: int | None,
    rejected: Iterable[Rejected | BadResponse],
) -> int:
    """Keep payloads that did not validate, verbatim, with the error that rejected them."""
    rows = [
        {
            "client_id": t.client_id,
            "integration_id": t.integration_id,
            "run_id": run_id,
            "entity": r.kind[:64],
            "external_id": r.external_id if isinstance(r, BadResponse) else _external_id(r.raw),
            "error": f"{r.source}: {r.error}" if r.source else r.error,
            "raw_text": r.raw_text if isinstance(r, BadResponse) else r.raw_json,
        }
        for r in rejected
    ]
    if rows:
        conn.execute(insert(QuarantinedPayload), rows)
    return len(rows)


def _external_id(raw: Any) -> str | None:
    if isinstance(raw, dict):
        for key in ("id", "issueId", "key"):
            if raw.get(key) is not None:
                return str(raw[key])
    return None


def reconcile(conn: Connection, t: Tenant, source_ids: Iterable[str]) -> tuple[int, list[str]]:
    """Compare every id the source shows with the table.

    Marks stored items the source no longer shows as inactive, and returns the ids the
    source shows that the table lacks or holds as inactive (to be fetched again).
    """
    raw = conn.connection.driver_connection
    assert raw is not None
    temp = sql.Identifier(f"_jira_ids_{next(_temp_names)}")
    with raw.cursor() as cur:
        cur.execute(
            sql.SQL("CREATE TEMP TABLE {} (external_id text PRIMARY KEY) ON COMMIT DROP").format(
                temp
            )
        )
        with cur.copy(sql.SQL("COPY {} (external_id) FROM STDIN").format(temp)) as copy:
            for issue_id in set(source_ids):
                copy.write_row((issue_id,))
        cur.execute(
            sql.SQL(
                "UPDATE work_items w SET active = false"
                " WHERE w.client_id = %s AND w.integration_id = %s AND w.active"
                " AND NOT EXISTS (SELECT 1 FROM {} s WHERE s.external_id = w.external_id)"
            ).format(temp),
            (t.client_id, t.integration_id),
        )
        deactivated = cur.rowcount
        cur.execute(
            sql.SQL(
                "SELECT s.external_id FROM {} s LEFT JOIN work_items w"
                " ON w.client_id = %s AND w.integration_id = %s AND w.external_id = s.external_id"
                " WHERE w.id IS NULL OR NOT w.active"
            ).format(temp),
            (t.client_id, t.integration_id),
        )
        missing = sorted((str(r[0]) for r in cur.fetchall()), key=_numeric)
        cur.execute(sql.SQL("DROP TABLE {}").format(temp))
    return deactivated, missing


def _numeric(value: str) -> tuple[int, str]:
    return (int(value), "") if value.isdigit() else (0, value)


def quality_summary(conn: Connection, t: Tenant) -> dict[str, int]:
    """Data-quality counts after a run (shown in the summary; nothing is changed)."""
    params = {"c": t.client_id, "i": t.integration_id}
    unmapped = conn.execute(
        text(
            "SELECT count(*) FROM work_items w WHERE w.client_id = :c AND w.integration_id = :i"
            " AND w.active AND w.status IS NOT NULL AND NOT EXISTS (SELECT 1 FROM status_mappings m"
            " WHERE m.client_id = w.client_id AND m.active"
            " AND lower(m.status_name) = lower(w.status))"
        ),
        params,
    ).scalar_one()
    unknown = conn.execute(
        text(
            "SELECT count(*) FROM work_item_transitions x WHERE x.client_id = :c"
            " AND x.integration_id = :i AND x.field = 'status' AND x.to_id IS NOT NULL"
            " AND NOT EXISTS (SELECT 1 FROM statuses s WHERE s.client_id = x.client_id"
            " AND s.integration_id = x.integration_id AND s.external_id = x.to_id)"
        ),
        params,
    ).scalar_one()
    unsynced = conn.execute(
        text(
            "SELECT count(DISTINCT l.repository) FROM work_item_links l"
            " JOIN work_items w ON w.id = l.work_item_id"
            " WHERE w.client_id = :c AND w.integration_id = :i AND l.repository IS NOT NULL"
            " AND NOT EXISTS (SELECT 1 FROM repositories r WHERE r.client_id = l.client_id"
            " AND lower(r.full_name) = lower(l.repository))"
        ),
        params,
    ).scalar_one()
    return {
        "issues_with_unmapped_status": int(unmapped),
        "transitions_to_unknown_status": int(unknown),
        "linked_repositories_not_synced": int(unsynced),
    }
