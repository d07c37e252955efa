"""The status timeline of every work item, precomputed into `work_item_status_spans`.

Why: the flow metrics read each item's visits to its statuses. Rebuilding them from the
changelog on every call (a window over every status change of every item in scope) was
most of the Metrics screen's time on a large organisation (issue 8). The timeline depends
only on the work item and its status changes, never on flow steps or mappings (those are
joined when a metric is computed), so an operator's mapping edit needs no refresh; only a
write to `work_items` / `work_item_transitions` does, and the Jira sync refreshes the
items of each page in the page's own transaction.

Definition (one row per visit, `seq` 0 first): an item is in its first status from
`created_at` until its first status change (the `from_value` of that change, else the
item's current status); change k (ordered by `changed_at`, then id) opens visit k, in its
`to_value`, until change k+1 (`left_at` NULL: still there). An item without status changes
has one open visit in its current status.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, text

# `{scope}` restricts the items (alias `w`); the rest is the definition above. Status
# changes whose client differs from their item's are not the item's history.
_SPANS_SELECT = """
WITH changes AS (
    SELECT w.client_id, w.id AS work_item_id, x.changed_at, x.from_value, x.to_value,
           row_number() OVER o AS seq, lead(x.changed_at) OVER o AS next_at
    FROM work_items w
    JOIN work_item_transitions x ON x.work_item_id = w.id AND x.client_id = w.client_id
    WHERE x.field = 'status' AND {scope}
    WINDOW o AS (PARTITION BY x.work_item_id ORDER BY x.changed_at, x.id)
)
SELECT client_id, work_item_id, seq, lower(to_value), changed_at, next_at FROM changes
UNION ALL
SELECT w.client_id, w.id, 0, lower(coalesce(c.from_value, w.status)), w.created_at,
       c.changed_at
FROM work_items w LEFT JOIN changes c ON c.work_item_id = w.id AND c.seq = 1
WHERE {scope}
"""
_INSERT = (
    "INSERT INTO work_item_status_spans"
    " (client_id, work_item_id, seq, status_key, entered_at, left_at) "
)


def refresh_items(conn: Connection, work_item_ids: Sequence[int]) -> int:
    """Recompute the spans of these work items (after their rows or changelog changed).

    Runs in the caller's transaction; returns the number of spans written. The delete and
    the insert go in one round trip (a pipeline): a sync refreshes every page it writes."""
    if not work_item_ids:
        return 0
    raw = conn.connection.driver_connection
    assert raw is not None
    ids = {"ids": list(work_item_ids)}
    scope = "w.id = ANY(%(ids)s)"
    with raw.cursor() as gone, raw.cursor() as spans:
        with raw.pipeline():
            gone.execute(
                "DELETE FROM work_item_status_spans WHERE work_item_id = ANY(%(ids)s)", ids
            )
            spans.execute(_INSERT + _SPANS_SELECT.format(scope=scope), ids)
        return int(spans.rowcount)


Row = dict[str, Any]

_changed_at = operator.itemgetter("changed_at")


def spans_of(item: Mapping[str, Any], transitions: Sequence[Mapping[str, Any]]) -> list[Row]:
    """The spans of a work item whose stored changes will be exactly ``transitions`` (rows of
    `work_item_transitions`, in the order they are inserted: their ids' order), by the
    definition above. Pure, so a sync builds them where it builds the rows; `insert_new`
    writes them. ``status`` is the name as given: `insert_new` lowers it with PostgreSQL's
    ``lower()``, as the query does (Python's differs for some letters)."""
    client_id = item["client_id"]
    # sorted() is stable: changes at the same instant keep their insertion (id) order.
    changes = sorted((x for x in transitions if x["field"] == "status"), key=_changed_at)
    first = changes[0]["from_value"] if changes else None
    spans: list[Row] = [
        {
            "client_id": client_id,
            "seq": 0,
            "status": item["status"] if first is None else first,
            "entered_at": item["created_at"],
            "left_at": changes[0]["changed_at"] if changes else None,
        }
    ]
    for seq, change in enumerate(changes, start=1):
        spans.append(
            {
                "client_id": client_id,
                "seq": seq,
                "status": change["to_value"],
                "entered_at": change["changed_at"],
                "left_at": changes[seq]["changed_at"] if seq < len(changes) else None,
            }
        )
    return spans


_INSERT_NEW = (
    _INSERT + "SELECT c, w, s, lower(k), e, l FROM unnest(%b::bigint[], %b::bigint[], %b::int[],"
    " %b::text[], %b::timestamptz[], %b::timestamptz[]) AS u(c, w, s, k, e, l)"
)


def insert_new(conn: Connection, spans: Mapping[int, Sequence[Mapping[str, Any]]]) -> int:
    """Write `spans_of` rows of work items inserted in this transaction (work item id → its
    spans): they have none stored, and their changes are the ones the spans were built from,
    so nothing is read back (`refresh_items` re-reads the changelog). One round trip."""
    columns: tuple[list[Any], ...] = ([], [], [], [], [], [])
    c, w, s, k, e, left = columns
    for work_item_id, rows in spans.items():
        for row in rows:
            c.append(row["client_id"])
            w.append(work_item_id)
            s.append(row["seq"])
            k.append(row["status"])
            e.append(row["entered_at"])
            left.append(row["left_at"])
    if not w:
        return 0
    raw = conn.connection.driver_connection
    assert raw is not None
    with raw.cursor() as cur:
        cur.execute(_INSERT_NEW, columns)
        return int(cur.rowcount)


def rebuild(conn: Connection, client_id: int | None = None) -> int:
    """Recompute every span of one client, or of every client; returns the spans written.

    For databases loaded before the table existed, or by a writer that does not refresh
    (`pulse-console metrics refresh`)."""
    scope, params = ("true", {}) if client_id is None else ("w.client_id = :c", {"c": client_id})
    conn.execute(text(f"DELETE FROM work_item_status_spans w WHERE {scope}"), params)
    written = conn.execute(text(_INSERT + _SPANS_SELECT.format(scope=scope)), params).rowcount
    conn.execute(text("ANALYZE work_item_status_spans"))
    return written
