"""Metrics settings, read from the `settings` table (client rows override global ones,
which override the defaults given to `load`: config.toml's `[metrics]`, else those below).

Keys (all optional; the defaults are below):

- `metrics.benchmark_year` — which DORA benchmark rows rate the metrics (2021 or 2023).
- `metrics.production_environments` — deployment environments that count as production
  (compared case-insensitively).
- `metrics.first_deployment_window_days` — how far back the *first* successful production
  deployment of a repository may claim merged PRs (later deployments claim exactly the PRs
  merged since the previous one). 0 reproduces Apache DevLake, which gives the first
  deployment no PRs at all (its fix for apache/incubator-devlake#7193).
- `metrics.incident_window_hours` — an incident is attributed to the latest successful
  production deployment finished at most this long before it was created; `null` means
  unbounded (DevLake's rule, which apache/incubator-devlake#8150 shows attributing incidents
  weeks later).
- `metrics.project_repositories` — `{"PROJECT": ["owner/repo", …]}`: repositories that belong
  to a project, in addition to those its work items link to.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, text

DEFAULT_ENVIRONMENTS = ("production", "prod", "prd")


@dataclass(frozen=True)
class MetricsSettings:
    benchmark_year: int = 2023
    production_environments: tuple[str, ...] = DEFAULT_ENVIRONMENTS
    first_deployment_window_days: float = 14.0
    incident_window_hours: float | None = 168.0
    project_repositories: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def load(
        cls, conn: Connection, client_id: int, defaults: MetricsSettings | None = None
    ) -> MetricsSettings:
        rows = conn.execute(
            text(
                "SELECT key, value FROM settings WHERE key LIKE 'metrics.%'"
                " AND (client_id = :c OR client_id IS NULL) ORDER BY client_id NULLS FIRST"
            ),
            {"c": client_id},
        ).all()
        values: dict[str, Any] = {}
        for key, value in rows:  # client rows come last and win
            values[key.removeprefix("metrics.")] = value
        base = defaults or cls()
        return cls(
            benchmark_year=int(values.get("benchmark_year", base.benchmark_year)),
            production_environments=tuple(
                str(e).lower()
                for e in values.get("production_environments", base.production_environments)
            ),
            first_deployment_window_days=float(
                values.get("first_deployment_window_days", base.first_deployment_window_days)
            ),
            incident_window_hours=_optional_float(
                values.get("incident_window_hours", base.incident_window_hours)
            ),
            project_repositories={
                str(k): [str(r) for r in v]
                for k, v in dict(values.get("project_repositories", {})).items()
            },
        )

    def params(self) -> dict[str, Any]:
        return {
            "environments": list(self.production_environments),
            "first_window_hours": self.first_deployment_window_days * 24.0,
            "incident_window_hours": self.incident_window_hours,
            "project_repos_json": _json(self.project_repositories),
        }


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _json(value: Any) -> str:
    import json

    return json.dumps(value)
