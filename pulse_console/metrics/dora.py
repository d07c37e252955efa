"""The four DORA metrics, per client / project / repository and period, rated by benchmark.

Definitions follow DORA (dora.dev/guides/dora-metrics-four-keys; Accelerate State of DevOps
Reports 2021 and 2023), with the choices the reports leave open made explicit:

- **Deployment frequency** — successful deployments to a production environment
  (`settings.production_environments`) whose finish (`finished_at`, else `created_at`) falls
  in the period. Reported as deployments, distinct deployment days (UTC) and deployment
  days per week; the level is rated on deployment days per week (DevLake's criterion,
  devlake.apache.org/docs/Metrics/DeploymentFrequency: "deployment days", not deployments).
- **Lead time for changes** — median over the PRs whose shipping deployment finished in the
  period of (first commit authored, else PR opened) → that deployment's finish. Which
  deployment shipped a PR is `delivery_chain`'s rule: merged since the repository's previous
  successful production deployment, the first deployment bounded by a window (#7193).
- **Change failure rate** — production deployments finished in the period to which at least
  one incident is attributed ÷ all production deployments finished in the period.
  An incident is a work item whose type an active `issue_type_mappings` row maps to
  `incident`. It is attributed to the latest successful production deployment (by finish,
  ties broken by the higher id) of its project's repositories that finished at or before the
  incident was created and at most `settings.incident_window_hours` before (unbounded when
  null). Its project's repositories are those in `settings.project_repositories` plus those
  its project's work items link to; a project with none uses all the client's repositories.
  Deterministic, and bounded, unlike apache/incubator-devlake#8150.
- **Time to restore** — median (incident created → resolved) over incidents resolved in the
  period (DORA 2023 "failed deployment recovery time"; DevLake's MTTR uses the same span).
  With a project (team) filter, the project's (team's) incidents count; with a repository
  filter, the incidents attributed to that repository's deployments. Attribution itself never
  depends on the filter: a deployment of a project's repository counts as failed in the
  change failure rate whichever project's incident it caused.

**Release or goal.** With `--release`/`--goal` (`plans`, the rule flow and the PR cycle
share) the deployments counted are those that shipped a PR of the plan's work items, the
lead time is over those PRs, and the incidents are those attributed to those deployments.

Medians are `sql.median` (percentile_cont 0.5 — DevLake's dashboards take the lower median).
Weekly series use ISO weeks (Monday, UTC) overlapping the period.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, text

from pulse_console.metrics.delivery_chain import DELIVERY_PARTS, delivery_params, delivery_stored
from pulse_console.metrics.filters import MetricFilter
from pulse_console.metrics.performance_levels import Level, level_for
from pulse_console.metrics.plans import incident_scope_sql
from pulse_console.metrics.settings import MetricsSettings
from pulse_console.metrics.snapshot import key_of, snapshot
from pulse_console.metrics.sql import Parts, ctes, hours, median

# Incidents and the deployment each is attributed to. `dseq` numbers each project's
# deployments by finish, unique across projects, and the stream carries each incident's
# creation time, so attribution is one single-key join (see `client_deploys.gseq` in
# `delivery_chain`); joining `incidents` back in let the planner, misled by the estimates of the
# project scope, cross-join incidents with deployments (77 s on the large sandbox).
INCIDENT_PARTS: Parts = (
    (
        "incidents",
        """
    SELECT w.id, w.key, w.summary, coalesce(w.project_key, '') AS pk, w.created_at,
           w.resolved_at, w.project_key, w.custom_fields ->> 'Team' AS team
    FROM work_items w
    -- A plain `=` on two columns (lower() inside the subquery, OFFSET 0 keeps it there):
    -- under row-level security a join condition calling lower() on a column may not
    -- drive the index on work_items (migration 0018), and a login read every work item.
    JOIN (SELECT lower(m.issue_type) AS type_key FROM issue_type_mappings m
          WHERE m.client_id = :client_id AND m.active AND m.kind = 'incident'
          OFFSET 0) m ON w.type_key = m.type_key
    WHERE w.client_id = :client_id AND w.active AND w.created_at IS NOT NULL
""",
    ),
    ("incident_projects", "SELECT DISTINCT pk FROM incidents"),
    (
        "incident_scope",
        """
    SELECT ip.pk, pr.repository_id
    FROM incident_projects ip JOIN project_repos pr ON pr.project_key = ip.pk
    UNION
    SELECT ip.pk, r.id FROM incident_projects ip
    JOIN repositories r ON r.client_id = :client_id AND r.active
    WHERE NOT EXISTS (SELECT 1 FROM project_repos pr WHERE pr.project_key = ip.pk)
""",
    ),
    (
        "incident_deploys",
        """
    SELECT s.pk, d.id, d.repository_id, d.finished_at,
           row_number() OVER (ORDER BY s.pk, d.finished_at, d.id) AS dseq
    FROM incident_scope s JOIN client_deploys d ON d.repository_id = s.repository_id
""",
    ),
    (
        "incident_stream",
        """
    SELECT pk, finished_at AS t, dseq, NULL::bigint AS incident_id FROM incident_deploys
    UNION ALL
    SELECT pk, created_at, NULL, id FROM incidents
""",
    ),
    (
        "incident_latest",
        """
    SELECT incident_id, t AS created_at,
           max(dseq) OVER (PARTITION BY pk ORDER BY t
                           RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS dseq
    FROM incident_stream
""",
    ),
    (
        "attributed",
        """
    SELECT l.incident_id, d.id AS deployment_id, d.repository_id
    FROM incident_latest l
    JOIN incident_deploys d ON d.dseq = l.dseq
    WHERE l.incident_id IS NOT NULL
      AND (CAST(:incident_window_hours AS float8) IS NULL
           OR d.finished_at >= l.created_at - :incident_window_hours * interval '1 hour')
""",
    ),
    (
        "scope_incidents",
        f"""
    SELECT i.*, a.deployment_id FROM incidents i LEFT JOIN attributed a ON a.incident_id = i.id
    WHERE (CAST(:repository AS text) IS NULL OR a.repository_id IN (SELECT id FROM scope_repos))
      AND (CAST(:project AS text) IS NULL OR i.project_key = :project)
      AND (CAST(:team AS text) IS NULL OR i.team = :team)
      {incident_scope_sql("a.deployment_id", "plan_deploys")}
""",
    ),
)
INCIDENT_CTES = ctes(INCIDENT_PARTS)
DORA_PARTS: Parts = DELIVERY_PARTS + INCIDENT_PARTS
# What a DORA report reads more than once, computed once per report (`delivery_snapshot`).
_INCIDENTS_STORED: dict[str, tuple[str, ...]] = {
    "incidents": ("id", "pk"),
    "attributed": ("incident_id", "deployment_id"),
    "scope_incidents": (),
}


def _stored(params: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    return {**delivery_stored(params), **_INCIDENTS_STORED}


# Successful production deployments in scope finished in the period, each flagged when an
# incident is attributed to it (a join: a correlated EXISTS rescanned `attributed` per row).
_PERIOD_DEPLOYS = """plan_deploys d
    LEFT JOIN (SELECT DISTINCT deployment_id FROM attributed) fd ON fd.deployment_id = d.id
    WHERE d.finished_at >= :since AND d.finished_at < :until"""


@dataclass(frozen=True)
class DoraMetric:
    name: str
    value: float | None
    unit: str
    sample: int  # how many deployments / PRs / incidents the value rests on
    level: Level | None


@dataclass(frozen=True)
class DoraWeek:
    week: date
    deployments: int
    lead_time_median_hours: float | None
    change_failure_rate: float | None
    time_to_restore_median_hours: float | None


@dataclass(frozen=True)
class DoraReport:
    deployment_frequency: DoraMetric
    lead_time_for_changes: DoraMetric
    change_failure_rate: DoraMetric
    time_to_restore: DoraMetric
    deployments: int
    deployment_days: int
    failed_deployments: int
    benchmark_year: int
    weeks: tuple[DoraWeek, ...]

    @property
    def metrics(self) -> tuple[DoraMetric, ...]:
        return (
            self.deployment_frequency,
            self.lead_time_for_changes,
            self.change_failure_rate,
            self.time_to_restore,
        )


@dataclass(frozen=True)
class IncidentAttribution:
    incident_id: int
    key: str | None
    created_at: datetime
    deployment_id: int | None


@dataclass(frozen=True)
class DeploymentRange:
    deployment_id: int
    external_id: str
    previous_id: int | None


def _params(conn: Connection, f: MetricFilter, s: MetricsSettings | None) -> dict[str, Any]:
    return delivery_params(f, s or MetricsSettings.load(conn, f.client_id))


def delivery_snapshot(
    conn: Connection, f: MetricFilter, s: MetricsSettings
) -> AbstractContextManager[Mapping[str, str]]:
    """The delivery chain (deployments, PRs, incidents) of `f` computed once, for every DORA
    and PR-cycle statement of the same filter and settings run on `conn` inside the block."""
    params = delivery_params(f, s)
    return snapshot(conn, key_of(params), DORA_PARTS, _stored(params), params)


def dora_report(
    conn: Connection, f: MetricFilter, settings: MetricsSettings | None = None
) -> DoraReport:
    s = settings or MetricsSettings.load(conn, f.client_id)
    params = delivery_params(f, s)
    with delivery_snapshot(conn, f, s) as stored:
        row = _totals(conn, params, stored)
        weeks = _weekly(conn, params, stored)
    deployments, days, failed = int(row[0]), int(row[1]), int(row[2])
    weeks_in_period = (f.until - f.since).total_seconds() / (7 * 86400)
    days_per_week = days / weeks_in_period
    cfr = failed / deployments if deployments else None
    lead = None if row[4] is None else float(row[4])
    restore = None if row[6] is None else float(row[6])
    year = s.benchmark_year
    return DoraReport(
        deployment_frequency=DoraMetric(
            "deployment_frequency",
            days_per_week,
            "deployment days/week",
            deployments,
            level_for("deployment_frequency", days_per_week if deployments else None, year),
        ),
        lead_time_for_changes=DoraMetric(
            "lead_time_for_changes",
            lead,
            "hours",
            int(row[3]),
            level_for("lead_time_for_changes", lead, year),
        ),
        change_failure_rate=DoraMetric(
            "change_failure_rate",
            cfr,
            "ratio",
            deployments,
            level_for("change_failure_rate", cfr, year),
        ),
        time_to_restore=DoraMetric(
            "time_to_restore",
            restore,
            "hours",
            int(row[5]),
            level_for("time_to_restore", restore, year),
        ),
        deployments=deployments,
        deployment_days=days,
        failed_deployments=failed,
        benchmark_year=year,
        weeks=tuple(weeks),
    )


def _totals(conn: Connection, params: dict[str, Any], stored: Mapping[str, str]) -> Any:
    return conn.execute(
        text(
            f"""WITH {ctes(DORA_PARTS, stored)},
            dep AS (
                SELECT count(*) AS n,
                       count(DISTINCT CAST(d.finished_at AT TIME ZONE 'UTC' AS date)) AS days,
                       count(fd.deployment_id) AS failed
                FROM {_PERIOD_DEPLOYS}
            ), lead AS (
                SELECT count(lead_hours) AS n, {median("lead_hours")} AS med FROM pr_times
                WHERE deployed_at >= :since AND deployed_at < :until
            ), restore AS (
                SELECT count(*) AS n, {median(hours("created_at", "resolved_at"))} AS med
                FROM scope_incidents WHERE resolved_at >= :since AND resolved_at < :until
            )
            SELECT dep.n, dep.days, dep.failed, lead.n, lead.med, restore.n, restore.med
            FROM dep, lead, restore"""
        ),
        params,
    ).one()


def _weekly(conn: Connection, params: dict[str, Any], stored: Mapping[str, str]) -> list[DoraWeek]:
    week = "CAST(date_trunc('week', {} AT TIME ZONE 'UTC') AS date)"
    rows = conn.execute(
        text(
            f"""WITH {ctes(DORA_PARTS, stored)},
            weeks AS (
                SELECT CAST(g AS date) AS week FROM generate_series(
                    date_trunc('week', :since AT TIME ZONE 'UTC'),
                    CAST(:until AT TIME ZONE 'UTC' AS timestamp) - interval '1 microsecond',
                    interval '1 week') g
            ), dep AS (
                SELECT {week.format("d.finished_at")} AS week, count(*) AS n,
                       count(fd.deployment_id) AS failed
                FROM {_PERIOD_DEPLOYS} GROUP BY 1
            ), lead AS (
                SELECT {week.format("deployed_at")} AS week, {median("lead_hours")} AS med
                FROM pr_times WHERE deployed_at >= :since AND deployed_at < :until GROUP BY 1
            ), restore AS (
                SELECT {week.format("resolved_at")} AS week,
                       {median(hours("created_at", "resolved_at"))} AS med
                FROM scope_incidents WHERE resolved_at >= :since AND resolved_at < :until
                GROUP BY 1
            )
            SELECT weeks.week, coalesce(dep.n, 0), lead.med,
                   CASE WHEN dep.n > 0 THEN dep.failed::float8 / dep.n END, restore.med
            FROM weeks LEFT JOIN dep USING (week) LEFT JOIN lead USING (week)
                 LEFT JOIN restore USING (week)
            ORDER BY weeks.week"""
        ),
        params,
    ).all()
    return [DoraWeek(r[0], int(r[1]), _opt(r[2]), _opt(r[3]), _opt(r[4])) for r in rows]


def incident_attributions(
    conn: Connection, f: MetricFilter, settings: MetricsSettings | None = None
) -> list[IncidentAttribution]:
    """Every incident created in the period and the deployment it is attributed to."""
    params = _params(conn, f, settings)
    with snapshot(conn, key_of(params), DORA_PARTS, _stored(params), params, build=False) as stored:
        rows = conn.execute(
            text(
                f"""WITH {ctes(DORA_PARTS, stored)}
                SELECT id, key, created_at, deployment_id FROM scope_incidents
                WHERE created_at >= :since AND created_at < :until ORDER BY created_at, id"""
            ),
            params,
        ).all()
    return [IncidentAttribution(r[0], r[1], r[2], r[3]) for r in rows]


def deployment_ranges(
    conn: Connection, f: MetricFilter, settings: MetricsSettings | None = None
) -> list[DeploymentRange]:
    """Each successful production deployment in scope and the previous successful one of
    its repository and environment (the start of the range of changes it shipped)."""
    params = _params(conn, f, settings)
    with snapshot(conn, key_of(params), DORA_PARTS, _stored(params), params, build=False) as stored:
        rows = conn.execute(
            text(
                f"""WITH {ctes(DORA_PARTS, stored)}
                SELECT id, external_id, prev_id FROM plan_deploys ORDER BY created_at, id"""
            ),
            params,
        ).all()
    return [DeploymentRange(r[0], r[1], r[2]) for r in rows]


def _opt(value: Any) -> float | None:
    return None if value is None else float(value)
