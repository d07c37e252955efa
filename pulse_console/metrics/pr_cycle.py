"""Pull-request cycle time: per merged PR, coding / pickup / review / deploy times; medians.

Per merged PR (Apache DevLake's `project_pr_metrics`, devlake.apache.org/docs/Metrics/PRCycleTime):

- **coding** = first commit authored → PR opened;
- **pickup** = PR opened → first review activity by someone other than the PR's author
  (the earlier of a submitted review and a comment; DevLake stores both as
  `pull_request_comments`);
- **review** = that first review activity → merge;
- **deploy** = merge → finish of the production deployment that shipped the PR;
- **cycle** = coding + (opened → merge) + deploy, each part counted only when it exists.

A negative part (a commit authored after the PR was opened, a comment dated before it) is
NULL, as in DevLake.

Which deployment shipped each PR, and the SQL these figures read (`pr_times`), is the
shared delivery chain in `delivery_chain`; DORA reads the same chain.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, text

from pulse_console.metrics.delivery_chain import DELIVERY_PARTS, delivery_params, delivery_stored
from pulse_console.metrics.filters import MetricFilter
from pulse_console.metrics.settings import MetricsSettings
from pulse_console.metrics.snapshot import key_of, snapshot
from pulse_console.metrics.sql import ctes, median


@dataclass(frozen=True)
class PrCycle:
    id: int
    repository_id: int
    number: int
    title: str | None
    author: str | None
    created_at: datetime | None
    merged_at: datetime
    first_commit_at: datetime | None
    first_review_at: datetime | None
    deployment_id: int | None
    deployed_at: datetime | None
    coding_hours: float | None
    pickup_hours: float | None
    review_hours: float | None
    deploy_hours: float | None
    cycle_hours: float | None


@dataclass(frozen=True)
class PrCycleSummary:
    merged: int
    deployed: int
    coding_median_hours: float | None
    pickup_median_hours: float | None
    review_median_hours: float | None
    deploy_median_hours: float | None
    cycle_median_hours: float | None


_CYCLE = (
    "CASE WHEN num_nonnulls(coding_hours, open_hours, deploy_hours) > 0 THEN"
    " coalesce(coding_hours, 0) + coalesce(open_hours, 0) + coalesce(deploy_hours, 0) END"
)


def pr_cycles(
    conn: Connection, f: MetricFilter, s: MetricsSettings, *, limit: int | None = None
) -> list[PrCycle]:
    """PRs merged in the period with their breakdown, slowest cycle first."""
    params = delivery_params(f, s)
    with _reuse(conn, params) as stored:
        rows = conn.execute(
            text(
                f"""WITH {ctes(DELIVERY_PARTS, stored)}
                SELECT id, repository_id, number, title, author, created_at, merged_at,
                       first_commit_at, first_review_at, deployment_id, deployed_at,
                       coding_hours, pickup_hours, review_hours, deploy_hours, {_CYCLE}
                FROM pr_times WHERE merged_at >= :since AND merged_at < :until
                ORDER BY {_CYCLE} DESC NULLS LAST, id LIMIT :limit"""
            ),
            {**params, "limit": limit},
        ).all()
    return [PrCycle(*(_float_tail(r, 11))) for r in rows]


def pr_cycle_summary(conn: Connection, f: MetricFilter, s: MetricsSettings) -> PrCycleSummary:
    params = delivery_params(f, s)
    with _reuse(conn, params) as stored:
        row = conn.execute(
            text(
                f"""WITH {ctes(DELIVERY_PARTS, stored)}
                SELECT count(*), count(deployment_id), {median("coding_hours")},
                       {median("pickup_hours")}, {median("review_hours")},
                       {median("deploy_hours")}, {median(_CYCLE)}
                FROM pr_times WHERE merged_at >= :since AND merged_at < :until"""
            ),
            params,
        ).one()
    return PrCycleSummary(int(row[0]), int(row[1]), *(_opt(v) for v in row[2:7]))


def _reuse(conn: Connection, params: dict[str, Any]) -> AbstractContextManager[Mapping[str, str]]:
    """The open delivery snapshot of the same scope, if any (one statement makes none)."""
    return snapshot(
        conn, key_of(params), DELIVERY_PARTS, delivery_stored(params), params, build=False
    )


def _opt(value: Any) -> float | None:
    return None if value is None else float(value)


def _float_tail(row: Any, start: int) -> list[Any]:
    values = list(row)
    return values[:start] + [_opt(v) for v in values[start:]]
