"""DORA and flow metrics of one client and period as JSON data: the one shape that
`metrics dora|flow --format json` prints and the HTTP API returns.

`report(database, client, kind, …)` resolves the period as the CLI does (default: the
`DEFAULT_PERIOD_DAYS` whole days before today, cut to the client's data) and raises
`MetricsRefused` with the CLI's one line when it cannot answer (unknown client, empty
period, unknown benchmark year).
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import Connection

from pulse_console.metrics.filters import DEFAULT_PERIOD_DAYS, MetricFilter
from pulse_console.metrics.settings import MetricsSettings
from storage.db import Database

Kind = Literal["dora", "flow"]


class MetricsRefused(ValueError):
    """The metrics cannot be computed as asked; `str()` is the one line to show."""


def jsonable(value: Any) -> Any:
    """`json.dumps(default=…)` for the dates and times in a report."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def period(f: MetricFilter) -> dict[str, str]:
    return {"since": f.since.isoformat(), "until": f.until.isoformat()}


def metric_filter(
    client_id: int,
    since: datetime | None,
    until: datetime | None,
    **scope: str | None,
) -> MetricFilter:
    """The filter of a period (`until` default today 00:00 UTC, `since` default
    `DEFAULT_PERIOD_DAYS` before it) and scope (project, team, issue_type, repository,
    release, goal)."""
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    end = until or today
    try:
        start = since or end - timedelta(days=DEFAULT_PERIOD_DAYS)
    except OverflowError:
        raise ValueError(
            f"no period of {DEFAULT_PERIOD_DAYS} days ends at {end:%Y-%m-%d}: give --since"
        ) from None
    return MetricFilter(client_id, start, end, **scope)


def dora_data(
    conn: Connection, f: MetricFilter, defaults: MetricsSettings | None
) -> dict[str, Any]:
    from pulse_console.metrics.dora import dora_report

    report = dora_report(conn, f, MetricsSettings.load(conn, f.client_id, defaults))
    return {**period(f), **asdict(report)}


def flow_data(conn: Connection, f: MetricFilter) -> dict[str, Any]:
    from pulse_console.metrics.flow_metrics import flow_summary, throughput_per_week, time_in_steps

    return {
        **period(f),
        "summary": asdict(flow_summary(conn, f)),
        "time_in_steps": [asdict(s) for s in time_in_steps(conn, f)],
        "throughput_per_week": [asdict(w) for w in throughput_per_week(conn, f)],
    }


def resolve(
    conn: Connection,
    database: Database,
    client: str,
    since: datetime | None,
    until: datetime | None,
    **scope: str | None,
) -> MetricFilter:
    """The filter the CLI and the API compute with: the client's, its release or goal
    known, the period cut to its data; else `MetricsRefused` with the one line."""
    from pulse_console.metrics.period import within_data
    from pulse_console.metrics.plans import unknown_plan
    from storage.tenancy import find_client

    with database.session() as session:
        client_id = find_client(session, client)
    if client_id is None:
        raise MetricsRefused(f"no client {client!r} in {database.display_url}")
    missing = unknown_plan(conn, client_id, scope.get("release"), scope.get("goal"))
    if missing:
        raise MetricsRefused(f"no {missing} for client {client!r}")
    try:
        return within_data(conn, metric_filter(client_id, since, until, **scope))
    except ValueError as exc:
        raise MetricsRefused(str(exc)) from None


def report(
    database: Database,
    client: str,
    kind: Kind,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    defaults: MetricsSettings | None = None,
    **scope: str | None,
) -> dict[str, Any]:
    """`metrics dora|flow --format json` of `client` as data."""
    from pulse_console.metrics.performance_levels import UnknownBenchmarkYear

    with database.engine.connect() as conn:
        f = resolve(conn, database, client, since, until, **scope)
        try:
            return dora_data(conn, f, defaults) if kind == "dora" else flow_data(conn, f)
        except UnknownBenchmarkYear as exc:
            raise MetricsRefused(exc.msg) from None
