"""Periods clamped to the data's own span, so no input makes a metric do unbounded work.

A period is whatever the operator typed (`--since 0001-01-01 --until 9999-12-31` included),
and the daily and weekly series are one row per day or week of it: millions of rows, a 30 MB
answer. Outside the client's data nothing happens, so `within_data` cuts the period to the
whole UTC days from its first recorded event to its last one or today, whichever is later
(ordinary periods, which end by today and start inside the data, are left as they are).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, text

from pulse_console.metrics.filters import MetricFilter, as_utc

# The earliest and latest time any of the client's work items, pull requests and
# deployments records (one aggregate per table; NULLs are ignored by least/greatest).
_SPAN = text(
    """
    SELECT least(w.lo, p.lo, d.lo), greatest(w.hi, p.hi, d.hi) FROM
      (SELECT min(created_at) AS lo,
              greatest(max(created_at), max(updated_at), max(resolved_at)) AS hi
         FROM work_items WHERE client_id = :c) w,
      (SELECT min(created_at) AS lo,
              greatest(max(updated_at), max(merged_at), max(closed_at)) AS hi
         FROM pull_requests WHERE client_id = :c) p,
      (SELECT min(created_at) AS lo, greatest(max(created_at), max(finished_at)) AS hi
         FROM deployments WHERE client_id = :c) d
    """
)


def _day(value: datetime) -> datetime:
    return as_utc(value).replace(hour=0, minute=0, second=0, microsecond=0)


def within_data(conn: Connection, f: MetricFilter, *, now: datetime | None = None) -> MetricFilter:
    """`f` with its period cut to the client's data span (a client without data: today)."""
    today = as_utc(now or datetime.now(UTC))
    lo, hi = conn.execute(_SPAN, {"c": f.client_id}).one()
    lo, hi = lo or today, hi or today
    end = _day(max(as_utc(hi), today)) + timedelta(days=1)
    since, until = max(f.since, _day(lo)), min(f.until, end)
    if since < until:
        return f.with_(since=since, until=until)
    # Wholly outside the data: nothing happened in it; keep (at most) its day nearest the data.
    day = timedelta(days=1)
    if f.until - f.since <= day:
        return f
    return f.with_(since=f.until - day) if f.until <= since else f.with_(until=f.since + day)
