"""The Jira sync keeps the precomputed status timelines (`work_item_status_spans`) exact.

After a full sync and an incremental one that updated, created, moved and deleted issues,
the spans the sync refreshed page by page equal a full rebuild, and both equal the
timeline the flow metrics used to rebuild from the changelog on every query.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, text

from connectors.sandbox.mutations import MutationPlan
from connectors.sandbox.org import Org
from pulse_console.metrics.filters import MetricFilter
from pulse_console.metrics.flow_metrics import flow_overview
from storage import status_spans
from storage.db import Database
from storage.flow_defaults import propose_default_mappings
from storage.load import upsert
from storage.models import WorkItem, WorkItemTransition
from tests.pipelines.harness import Sandbox, add_integration, sync

# The timeline as the flow metrics computed it per query before migration 0006 (verbatim
# but for the item filter, the lowered status and the visit's number): the reference.
_CHANGELOG_TIMELINE = """
WITH items AS (SELECT id, type, created_at, status FROM work_items WHERE client_id = :c),
changes AS (
    SELECT x.work_item_id, x.changed_at, x.from_value, x.to_value, i.type, i.created_at,
           i.status AS item_status,
           row_number() OVER w AS seq, lead(x.changed_at) OVER w AS next_at
    FROM work_item_transitions x JOIN items i ON i.id = x.work_item_id
    WHERE x.client_id = :c AND x.field = 'status'
    WINDOW w AS (PARTITION BY x.work_item_id ORDER BY x.changed_at, x.id)
),
visits AS (
    SELECT c.work_item_id, CASE WHEN v.is_change THEN c.seq ELSE 0 END AS seq, c.type,
           v.entered_at, v.left_at, v.status
    FROM changes c CROSS JOIN LATERAL (VALUES
        (c.changed_at, c.next_at, c.to_value, true),
        (c.created_at, c.changed_at, coalesce(c.from_value, c.item_status), false)
    ) v(entered_at, left_at, status, is_change)
    WHERE v.is_change OR c.seq = 1
    UNION ALL
    SELECT i.id, 0, i.type, i.created_at, NULL, i.status FROM items i
    WHERE NOT EXISTS (SELECT 1 FROM changes c WHERE c.work_item_id = i.id)
)
SELECT :c AS client_id, work_item_id, seq, lower(status) AS status_key, entered_at, left_at
FROM visits ORDER BY work_item_id, seq
"""

Span = tuple[Any, ...]


def spans(conn: Connection) -> list[Span]:
    return [
        tuple(r)
        for r in conn.execute(
            text(
                "SELECT client_id, work_item_id, seq, status_key, entered_at, left_at"
                " FROM work_item_status_spans ORDER BY work_item_id, seq"
            )
        )
    ]


def test_spans_after_full_and_incremental_syncs_equal_a_rebuild_and_the_old_timeline(
    database: Database,
) -> None:
    org = Org(11, "small")
    sandbox = Sandbox(org)
    secrets = add_integration(database)
    sync(sandbox, database, secrets)
    with database.engine.connect() as conn:
        first = spans(conn)
        # The first sync wrote the spans it built with the rows, never the query's.
        status_spans.rebuild(conn)
        assert spans(conn) == first
        conn.rollback()
    org.apply(MutationPlan(create=7, update=15, move=4, delete=5))
    sync(sandbox, database, secrets)

    with database.engine.begin() as conn:
        client_id = conn.execute(text("SELECT id FROM clients")).scalar_one()
        synced = spans(conn)
        changes = conn.execute(
            text("SELECT count(*) FROM work_item_transitions WHERE field = 'status'")
        ).scalar_one()
        items = conn.execute(text("SELECT count(*) FROM work_items")).scalar_one()
        old = [tuple(r) for r in conn.execute(text(_CHANGELOG_TIMELINE), {"c": client_id})]
        written = status_spans.rebuild(conn, client_id)
        rebuilt = spans(conn)

    assert len(synced) == items + changes == written  # one visit per change, plus the first
    assert synced != first and len(synced) > len(first)  # the second sync did refresh
    assert synced == rebuilt == old


def test_flow_metrics_on_synced_spans_equal_those_on_the_old_timeline(
    database: Database,
) -> None:
    org = Org(11, "small")
    sandbox = Sandbox(org)
    secrets = add_integration(database)
    sync(sandbox, database, secrets)
    org.apply(MutationPlan(update=20))
    sync(sandbox, database, secrets)

    with database.engine.connect() as conn:
        client_id = conn.execute(text("SELECT id FROM clients")).scalar_one()
        propose_default_mappings(conn, client_id)
        until = conn.execute(text("SELECT max(changed_at) FROM work_item_transitions")).scalar()
        assert isinstance(until, datetime)
        f = MetricFilter(client_id, until.replace(year=until.year - 1), until)
        synced = flow_overview(conn, f, slowest=1000)
        # The same metrics with the table replaced by the changelog's timeline.
        conn.execute(text("DELETE FROM work_item_status_spans"))
        conn.execute(
            text(
                "INSERT INTO work_item_status_spans"
                " (client_id, work_item_id, seq, status_key, entered_at, left_at)"
                + _CHANGELOG_TIMELINE
            ),
            {"c": client_id},
        )
        old = flow_overview(conn, f, slowest=1000)
    assert synced.summary.completed > 0 and synced.steps and synced.summary.wip_at_end > 0
    assert synced == old


def test_spans_built_with_the_rows_equal_the_querys_at_ties_and_missing_values(
    database: Database,
) -> None:
    """`spans_of` + `insert_new` against `refresh_items` on the same rows: two changes at
    the same instant (the insertion order decides), a first change without a from value,
    a status PostgreSQL and Python lower differently, an item without changes."""
    add_integration(database)
    at = [datetime.fromisoformat(f"2026-0{m}-01T00:00:00+00:00") for m in (1, 2, 3)]
    with database.engine.begin() as conn:
        client_id, integration_id = conn.execute(
            text("SELECT client_id, id FROM integrations")
        ).one()
        base = {"client_id": client_id, "integration_id": integration_id, "source": "jira"}
        items = [
            {
                **base,
                "external_id": str(n),
                "key": f"P-{n}",
                "status": status,
                "created_at": at[0],
                "active": True,
            }
            for n, status in ((1, "Done"), (2, "İn Review"), (3, "To Do"))
        ]
        ids = upsert(conn, WorkItem, items, return_ids=True).ids
        assert ids is not None

        def change(
            item: int, history: str, at_: datetime, old: str | None, new: str
        ) -> dict[str, Any]:
            return {
                "client_id": client_id,
                "integration_id": integration_id,
                "work_item_id": ids[(client_id, integration_id, str(item))],
                "external_id": history,
                "item_index": 0,
                "field": "status",
                "from_value": old,
                "to_value": new,
                "changed_at": at_,
            }

        changes = {
            1: [
                change(1, "10", at[1], "To Do", "In Progress"),
                change(1, "12", at[2], "Ready", "Done"),  # same instant, inserted first
                change(1, "11", at[2], "In Progress", "Ready"),
            ],
            2: [change(2, "20", at[1], None, "İn Review")],
            3: [],
        }
        upsert(conn, WorkItemTransition, [c for cs in changes.values() for c in cs])
        built = {
            ids[(client_id, integration_id, str(n))]: status_spans.spans_of(items[n - 1], cs)
            for n, cs in changes.items()
        }
        assert status_spans.insert_new(conn, built) == 3 + 1 + 2 + 1
        written = spans(conn)
        status_spans.refresh_items(conn, list(built))
        assert spans(conn) == written
        by_item = {
            n: [s for s in written if s[1] == ids[(client_id, integration_id, str(n))]]
            for n in (1, 2, 3)
        }
        assert [s[3] for s in by_item[1]] == ["to do", "in progress", "done", "ready"]
        assert by_item[2][0][3] == by_item[2][1][3]  # the item's status, lowered the same
        assert by_item[3] == [(client_id, by_item[3][0][1], 0, "to do", at[0], None)]
