"""The work items behind one flow step's time (the Metrics screen's drill-down of a step).

Same timeline and clipping as `flow_metrics.time_in_steps`: each visit to the step counts
from `max(entered, since)` to `min(left, until, now)`, so the hours of the rows here add up
to that step's figure. Slowest (most hours in the step) first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from pulse_console.metrics.filters import MetricFilter
from pulse_console.metrics.flow_metrics import on_timeline


@dataclass(frozen=True)
class StepItem:
    id: int
    key: str | None
    summary: str | None
    type: str | None
    project_key: str | None
    hours: float  # time in the step within the period
    visits: int  # visits to the step that overlap the period
    last_entered_at: datetime
    in_step_at_end: bool  # still in the step when the period ends


def step_items(
    conn: Connection, f: MetricFilter, step_id: int, *, limit: int | None = None
) -> list[StepItem]:
    rows = on_timeline(
        conn,
        f,
        """
        clipped AS (
            SELECT work_item_id, entered_at, left_at,
                   extract(epoch FROM least(coalesce(left_at, :until), :until, now())
                                      - greatest(entered_at, :since)) AS secs
            FROM steps WHERE step_id = :step_id
        ),
        per_item AS (
            SELECT work_item_id, sum(secs) / 3600.0 AS hours, count(*) AS visits,
                   max(entered_at) AS last_entered_at,
                   bool_or(entered_at < :until AND (left_at IS NULL OR left_at >= :until))
                       AS at_end
            FROM clipped WHERE secs > 0 GROUP BY work_item_id
        )
        SELECT i.id, i.key, i.summary, i.type, i.project_key, p.hours, p.visits,
               p.last_entered_at, p.at_end
        FROM per_item p JOIN items i ON i.id = p.work_item_id
        ORDER BY p.hours DESC, i.id LIMIT :limit""",
        step_id=step_id,
        limit=limit,
    )
    return [_item(r) for r in rows]


def _item(r: Any) -> StepItem:
    return StepItem(r[0], r[1], r[2], r[3], r[4], float(r[5]), int(r[6]), r[7], bool(r[8]))
