"""Flow metrics over work items and their status changelog, per project/team/type and period.

Definitions (each one SQL statement below; the status → step rule is `mapping_rules`'s):

- **Status timeline.** An item is in its first status from `created_at` (the `from_value` of
  its first status change, else its current status) and in each `to_value` from that
  change's `changed_at` until the next change (precomputed in `work_item_status_spans`
  by `storage.status_spans`). Each status maps to a flow step (see `mapping_rules`);
  time in an unmapped status, or a status whose mapping/step is inactive, belongs to no step.
- **Lead time** = `created_at` → the first time the item enters a Done-category step.
  Counted in the period that contains that first Done. An item reopened later keeps its
  first Done (Kanban's "customer lead time", Anderson, *Kanban*, 2010; Vacanti, *Actionable
  Agile Metrics*, 2015 — first commitment to first delivery).
- **Cycle time** = the first time the item enters an In-Progress-category step → the first
  Done after that moment; counted in the period containing that Done. An item that skipped
  In Progress (To Do → Done) has a lead time but no cycle time.
- **Time in step** = for every step and item, the time the item spent in it within the
  period (visits after a reopening add up), with the open last visit running to the end of
  the period; a step reports the median and 85th percentile of that per-item time (what
  one item typically spends there) and, labelled as such, its total over all items.
- **Flow efficiency** = time in active-work steps ÷ time in all To-Do and In-Progress
  steps, within the period: active time ÷ the time items spend not yet Done, the span lead
  time measures (Zheglov, "Flow efficiency", 2013: work time ÷ lead time; Kersten,
  *Project to Product*, 2018: active ÷ flow time). Waiting steps are those not marked
  `is_active_work`; the default mapping proposes To Do as one (`storage.flow_defaults`).
- **WIP per day** = items in an In-Progress step at the end of each UTC day.
- **Throughput per week** = items whose first Done falls in each ISO week (Monday, UTC).

Medians are `sql.median` (percentile_cont 0.5); the 85th percentile is `percentile_cont(0.85)`.
Inactive work items are excluded everywhere; periods are `[since, until)`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, text

from pulse_console.metrics.filters import MetricFilter
from pulse_console.metrics.mapping_rules import EFFECTIVE_MAPPINGS_SQL
from pulse_console.metrics.plans import scope_sql
from pulse_console.metrics.sql import hours, median, temp_table, without_jit

# "Changed status since `since`" (an item created before it, Done at the start of it): a
# change is a visit after the first, and the first is entered at `created_at`, before
# `since` here, so a visit entered at or after `since` says it. For a whole client every
# visit since `since` is read once and hashed; for a narrowed scope (a project's few
# thousand items) only each such item's own visits are looked up, index-only by the
# timeline index, instead of the client's 85,000 (the same answer: issue 14).
_CHANGED_FOR_CLIENT = (
    "",
    """w.id IN (SELECT x.work_item_id FROM work_item_status_spans x
                   WHERE x.client_id = :client_id AND x.seq > 0 AND x.entered_at >= :since)""",
)
_CHANGED_PER_ITEM = (
    """LEFT JOIN LATERAL (
        SELECT true AS changed FROM work_item_status_spans x
        WHERE x.work_item_id = w.id AND x.entered_at >= :since AND w.created_at < :since
          AND coalesce(t.category, g.category, '') = 'done'
        LIMIT 1
    ) c ON true""",
    "c.changed",
)


def _items_ctes(f: MetricFilter) -> str:
    """The status timeline of every item `f` matches, each visit resolved to its flow step."""
    narrowed = any((f.project, f.team, f.issue_type, f.release, f.goal))
    join, changed = _CHANGED_PER_ITEM if narrowed else _CHANGED_FOR_CLIENT
    return f"""
eff AS MATERIALIZED ({EFFECTIVE_MAPPINGS_SQL}),
items AS MATERIALIZED (
    SELECT w.id, w.key, w.summary, w.type, w.project_key, w.created_at, w.type_key
    FROM (
        -- lower() once per row: OFFSET 0 keeps the planner from inlining the subquery
        -- and repeating the call in each join (lower() is most of a 100,000-row scan).
        SELECT w.id, w.key, w.summary, w.type, w.project_key, w.created_at,
               lower(w.status) AS status_key, w.type_key
        FROM work_items w
        WHERE w.client_id = :client_id AND w.active AND w.created_at < :until
          AND (CAST(:project AS text) IS NULL OR w.project_key = :project)
          AND (CAST(:team AS text) IS NULL OR w.custom_fields ->> 'Team' = :team)
          AND (CAST(:issue_type AS text) IS NULL OR w.type_key = lower(:issue_type))
          {scope_sql("w")}
        OFFSET 0
    ) w
    LEFT JOIN eff t ON t.status_key = w.status_key AND t.type_key = w.type_key
                   AND t.type_key <> ''
    LEFT JOIN eff g ON g.status_key = w.status_key AND g.type_key = ''
    {join}
    -- Only items whose timeline can touch the period: created in it, changed status
    -- since it began, or not (yet) in a Done step. Anything else has sat in Done,
    -- unchanged, since before `since`, and no flow metric of the period counts it.
    WHERE (w.created_at >= :since
           OR coalesce(t.category, g.category, '') <> 'done'
           OR {changed})
)
"""


# The timeline itself is precomputed (`storage.status_spans`, the definition above); here
# each visit is only resolved to its flow step, by its item's type.
_STEPS_CTES = """
steps AS MATERIALIZED (
    SELECT v.work_item_id, v.entered_at, v.left_at,
           coalesce(t.step_id, g.step_id) AS step_id,
           coalesce(t.category, g.category) AS category,
           coalesce(t.is_active_work, g.is_active_work) AS is_active_work
    FROM items i JOIN work_item_status_spans v ON v.work_item_id = i.id
    LEFT JOIN eff t ON t.status_key = v.status_key AND t.type_key = i.type_key
                   AND t.type_key <> ''
    LEFT JOIN eff g ON g.status_key = v.status_key AND g.type_key = ''
)
"""
_DERIVED_CTES = f"""
firsts AS (
    SELECT work_item_id,
           min(entered_at) FILTER (WHERE category = 'in_progress') AS started_at,
           min(entered_at) FILTER (WHERE category = 'done') AS done_at
    FROM steps GROUP BY work_item_id
),
-- The first Done at or after the start is the first Done itself, unless the item was Done
-- before it started (and reopened): only those few items need a second look. Two hash
-- aggregates instead of sorting every visit for a window.
item_flow AS (
    SELECT f.work_item_id, f.started_at, f.done_at,
           CASE WHEN f.done_at >= f.started_at THEN f.done_at ELSE r.cycle_done_at END
               AS cycle_done_at
    FROM firsts f LEFT JOIN (
        SELECT s.work_item_id, min(s.entered_at) AS cycle_done_at
        FROM steps s JOIN firsts x ON x.work_item_id = s.work_item_id
        WHERE x.done_at < x.started_at AND s.category = 'done' AND s.entered_at >= x.started_at
        GROUP BY s.work_item_id
    ) r ON r.work_item_id = f.work_item_id
),
flow_items AS MATERIALIZED (
    SELECT i.*, f.started_at, f.done_at, f.cycle_done_at,
           {hours("i.created_at", "f.done_at")} AS lead_hours,
           {hours("f.started_at", "f.cycle_done_at")} AS cycle_hours
    FROM items i JOIN item_flow f ON f.work_item_id = i.id
)
"""

_IN_PERIOD = "{col} >= :since AND {col} < :until"
# A visit's part within the period (and before now), as an interval: intervals add up
# exactly and far faster than numeric seconds, and `extract(epoch …)` of their sum is the
# sum of each one's seconds. Only positive parts count.
_CLIPPED = "least(coalesce(left_at, :until), :until, now()) - greatest(entered_at, :since)"
_CLIPPED_POSITIVE = "least(coalesce(left_at, :until), :until, now()) > greatest(entered_at, :since)"


@dataclass(frozen=True)
class FlowSummary:
    completed: int  # items whose first Done is in the period
    lead_time_median_hours: float | None
    lead_time_p85_hours: float | None
    cycle_time_median_hours: float | None
    cycle_time_p85_hours: float | None
    cycle_time_items: int
    throughput_per_week: float  # completed ÷ weeks in the period
    wip_at_end: int  # items in progress at `until`
    flow_efficiency: float | None  # 0..1


@dataclass(frozen=True)
class StepTime:
    step_id: int
    step: str
    category: str
    position: int
    is_active_work: bool
    hours: float  # the total over all items (sums visits of many items: not a duration)
    items: int
    median_hours: float  # per item
    p85_hours: float  # per item


@dataclass(frozen=True)
class CompletedItem:
    """The work items behind a lead/cycle-time number (the console's drill-down)."""

    id: int
    key: str | None
    summary: str | None
    type: str | None
    project_key: str | None
    created_at: datetime
    started_at: datetime | None
    done_at: datetime
    lead_hours: float | None
    cycle_hours: float | None


@dataclass(frozen=True)
class DailyCount:
    day: date
    count: int


# Every query reads the period's timeline under these names, from temp tables.
_SNAPSHOT_CTES = """
items AS (SELECT * FROM pg_temp._flow_base),
steps AS (SELECT * FROM pg_temp._flow_steps),
flow_items AS (SELECT * FROM pg_temp._flow_items)
"""
_snapshot: dict[int, bool] = {}


@contextmanager
def _timeline(conn: Connection, f: MetricFilter) -> Iterator[None]:
    """The period's items, their visits resolved to steps, and their lead/cycle marks,
    computed once into analyzed temp tables (dropped on leaving), so each statement reading
    them is planned from real row counts. Inside another `_timeline` it reuses that one."""
    if _snapshot.get(id(conn)):
        yield
        return
    params = f.params()
    temp_items = "items AS (SELECT * FROM pg_temp._flow_base)"
    temp_steps = "steps AS (SELECT * FROM pg_temp._flow_steps)"
    eff = f"eff AS ({EFFECTIVE_MAPPINGS_SQL})"
    with without_jit(conn):
        for table, select, keys in (
            ("_flow_base", f"WITH {_items_ctes(f)} SELECT * FROM items", ("id",)),
            (
                "_flow_steps",
                f"WITH {eff}, {temp_items}, {_STEPS_CTES} SELECT * FROM steps",
                ("work_item_id",),
            ),
            (
                "_flow_items",
                f"WITH {temp_items}, {temp_steps}, {_DERIVED_CTES} SELECT * FROM flow_items",
                (),
            ),
        ):
            temp_table(conn, f"pg_temp.{table}", select, params, keys)
    _snapshot[id(conn)] = True
    try:
        yield
    finally:
        _snapshot.pop(id(conn), None)
        conn.execute(
            text(
                "DROP TABLE IF EXISTS pg_temp._flow_base, pg_temp._flow_steps, pg_temp._flow_items"
            )
        )


def on_timeline(conn: Connection, f: MetricFilter, body: str, **extra: Any) -> Sequence[Any]:
    """Run `body` (more CTEs, then a SELECT) over the period's timeline: `items` (the
    matching work items), `steps` (their visits resolved to flow steps) and `flow_items`
    (with lead and cycle marks), as every flow figure here reads them."""
    with _timeline(conn, f), without_jit(conn):
        return conn.execute(text(f"WITH {_SNAPSHOT_CTES}, {body}"), {**f.params(), **extra}).all()


@dataclass(frozen=True)
class FlowOverview:
    """Everything the Metrics screen shows about flow, computed from one timeline pass."""

    summary: FlowSummary
    steps: list[StepTime]
    wip: list[DailyCount]
    throughput: list[DailyCount]
    slowest: list[CompletedItem]


def flow_overview(conn: Connection, f: MetricFilter, *, slowest: int = 50) -> FlowOverview:
    """Summary, time in steps, WIP, throughput and the slowest items for one period.

    The timeline is computed once (`_timeline`) and every figure is read from it.
    """
    with _timeline(conn, f):
        return FlowOverview(
            summary=flow_summary(conn, f),
            steps=time_in_steps(conn, f),
            wip=wip_per_day(conn, f),
            throughput=throughput_per_week(conn, f),
            slowest=completed_items(conn, f, limit=slowest),
        )


def flow_summary(conn: Connection, f: MetricFilter) -> FlowSummary:
    row = on_timeline(
        conn,
        f,
        f"""
        lead AS (
            SELECT count(*) AS n, {median("lead_hours")} AS med,
                   percentile_cont(0.85) WITHIN GROUP (ORDER BY lead_hours) AS p85
            FROM flow_items WHERE {_IN_PERIOD.format(col="done_at")}
        ), cycle AS (
            SELECT count(cycle_hours) AS n, {median("cycle_hours")} AS med,
                   percentile_cont(0.85) WITHIN GROUP (ORDER BY cycle_hours) AS p85
            FROM flow_items WHERE {_IN_PERIOD.format(col="cycle_done_at")}
        ), wip AS (
            SELECT count(DISTINCT work_item_id) AS n FROM steps
            WHERE category = 'in_progress' AND entered_at < :until
              AND (left_at IS NULL OR left_at >= :until)
        ), eff_time AS (
            SELECT extract(epoch FROM sum(span) FILTER (WHERE is_active_work)) AS active,
                   extract(epoch FROM sum(span)) AS total
            FROM (SELECT is_active_work, {_CLIPPED} AS span
                  FROM steps WHERE category IN ('todo', 'in_progress')
                    AND (left_at IS NULL OR left_at > :since) AND {_CLIPPED_POSITIVE}) x
        )
        SELECT lead.n, lead.med, lead.p85, cycle.n, cycle.med, cycle.p85, wip.n,
               eff_time.active, eff_time.total
        FROM lead, cycle, wip, eff_time
        """,
    )[0]
    weeks = (f.until - f.since).total_seconds() / (7 * 86400)
    active, total = row[7], row[8]
    return FlowSummary(
        completed=int(row[0]),
        lead_time_median_hours=_f(row[1]),
        lead_time_p85_hours=_f(row[2]),
        cycle_time_median_hours=_f(row[4]),
        cycle_time_p85_hours=_f(row[5]),
        cycle_time_items=int(row[3]),
        throughput_per_week=int(row[0]) / weeks,
        wip_at_end=int(row[6]),
        flow_efficiency=(float(active or 0) / float(total)) if total else None,
    )


def completed_items(
    conn: Connection, f: MetricFilter, *, order: str = "lead", limit: int | None = None
) -> list[CompletedItem]:
    """Items whose first Done is in the period, slowest first by `order` (lead|cycle|done)."""
    order_by = {
        "lead": "lead_hours DESC NULLS LAST",
        "cycle": "cycle_hours DESC NULLS LAST",
        "done": "done_at",
    }[order]
    rows = on_timeline(
        conn,
        f,
        f"""
        picked AS (SELECT 1)
        SELECT id, key, summary, type, project_key, created_at, started_at, done_at,
               lead_hours, cycle_hours
        FROM flow_items WHERE {_IN_PERIOD.format(col="done_at")}
        ORDER BY {order_by}, id LIMIT :limit
        """,
        limit=limit,
    )
    return [
        CompletedItem(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], _f(r[8]), _f(r[9]))
        for r in rows
    ]


def time_in_steps(conn: Connection, f: MetricFilter) -> list[StepTime]:
    """Hours spent in each mapped step within the period, in board order: per item
    (median, p85) and in total."""
    rows = on_timeline(
        conn,
        f,
        f"""
        clipped AS (
            SELECT step_id, work_item_id, {_CLIPPED} AS span
            FROM steps WHERE step_id IS NOT NULL
              AND (left_at IS NULL OR left_at > :since)  -- else nothing falls in the period
              AND {_CLIPPED_POSITIVE}
        ),
        -- Per (step, item) first, then per step, on integer keys: two hash aggregates
        -- instead of a sort for count(DISTINCT work_item_id). A step's name, category,
        -- position and kind are its `flow_steps` row's (as `steps` took them).
        per_item AS (
            SELECT step_id, sum(span) AS span FROM clipped GROUP BY step_id, work_item_id
        ),
        per_step AS (
            SELECT step_id, extract(epoch FROM sum(span)) AS secs, count(*) AS items,
                   extract(epoch FROM {median("span")}) AS med,
                   extract(epoch FROM percentile_cont(0.85) WITHIN GROUP (ORDER BY span)) AS p85
            FROM per_item GROUP BY step_id
        )
        SELECT s.step_id, f.name, f.category, f.position, f.is_active_work,
               s.secs / 3600.0, s.items, s.med / 3600.0, s.p85 / 3600.0
        FROM per_step s JOIN flow_steps f ON f.id = s.step_id
        ORDER BY f.position, s.step_id
        """,
    )
    return [
        StepTime(r[0], r[1], r[2], r[3], r[4], float(r[5]), int(r[6]), float(r[7]), float(r[8]))
        for r in rows
    ]


def wip_per_day(conn: Connection, f: MetricFilter) -> list[DailyCount]:
    """Items in an In-Progress step at the end of each UTC day of the period."""
    rows = on_timeline(
        conn,
        f,
        """
        -- A visit wholly before the period adds +1 and -1 before `since`: it changes no day.
        ip AS (
            SELECT entered_at, left_at FROM steps WHERE category = 'in_progress'
              AND (left_at IS NULL OR left_at >= :since OR entered_at >= :since)
        ),
        ev AS (
            SELECT entered_at AS t, 1 AS d FROM ip
            UNION ALL SELECT left_at, -1 FROM ip WHERE left_at IS NOT NULL
        ),
        base AS (
            SELECT count(*) FILTER (WHERE entered_at < :since)
                   - count(*) FILTER (WHERE left_at < :since) AS n
            FROM ip
        ),
        per_day AS (
            SELECT CAST(t AT TIME ZONE 'UTC' AS date) AS day, sum(d) AS n
            FROM ev WHERE t >= :since AND t < :until GROUP BY 1
        ),
        days AS (
            SELECT CAST(g AS date) AS day FROM generate_series(
                CAST(CAST(:since AT TIME ZONE 'UTC' AS date) AS timestamp),
                CAST(:until AT TIME ZONE 'UTC' AS timestamp) - interval '1 microsecond',
                interval '1 day') g
        )
        SELECT days.day, base.n + sum(coalesce(per_day.n, 0)) OVER (ORDER BY days.day)
        FROM days CROSS JOIN base LEFT JOIN per_day USING (day)
        ORDER BY days.day
        """,
    )
    return [DailyCount(r[0], int(r[1])) for r in rows]


def throughput_per_week(conn: Connection, f: MetricFilter) -> list[DailyCount]:
    """Items first Done in each ISO week (Monday, UTC) overlapping the period."""
    rows = on_timeline(
        conn,
        f,
        """
        done AS (
            SELECT CAST(date_trunc('week', done_at AT TIME ZONE 'UTC') AS date) AS day,
                   count(*) AS n
            FROM flow_items WHERE done_at >= :since AND done_at < :until GROUP BY 1
        ),
        weeks AS (
            SELECT CAST(g AS date) AS day FROM generate_series(
                date_trunc('week', :since AT TIME ZONE 'UTC'),
                CAST(:until AT TIME ZONE 'UTC' AS timestamp) - interval '1 microsecond',
                interval '1 week') g
        )
        SELECT weeks.day, coalesce(done.n, 0) FROM weeks LEFT JOIN done USING (day)
        ORDER BY weeks.day
        """,
    )
    return [DailyCount(r[0], int(r[1])) for r in rows]


def _f(value: Any) -> float | None:
    return None if value is None else float(value)
