"""`GET /metrics`: the Prometheus text exposition of the token's client, read from the
database on each scrape (`services.ops_metrics`), so any process serving the API — a
worker, `serve`, a standby — exports the same numbers.

Metric names and labels (all carry `client`):
- `pulse_job_runs_total{job,source,outcome}` — runs that ended as FINISHED, FAILED,
  CANCELLED, PARKED, INTERRUPTED (or are RUNNING);
- `pulse_job_run_duration_seconds{job,source,outcome}` — a summary (count, sum) of the
  durations of ended runs;
- `pulse_records_loaded_total{job,source}`;
- `pulse_api_calls_total{source}`, `pulse_api_retries_total{source}`,
  `pulse_rate_limit_waits_total{source}`;
- `pulse_api_budget_remaining{integration,source}` / `pulse_api_budget_limit` — as the
  newest run that reported one left it (GitHub's GraphQL points);
- `pulse_last_successful_sync_timestamp_seconds{integration,source}` and
  `pulse_last_successful_sync_age_seconds` (+Inf for an integration that never synced);
- `pulse_integration_active{integration,source}`;
- `pulse_orchestrator_leader` (1 while a worker or console drives the client),
  `pulse_orchestrator_paused`, and `pulse_job_status{job,status}` (1 for the job's status).

Format: https://prometheus.io/docs/instrumenting/exposition_formats/
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime

from fastapi import APIRouter, Request, Response
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    Metric,
    SummaryMetricFamily,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from starlette.concurrency import run_in_threadpool

from pulse_console.api import problems
from pulse_console.api.authz import acting, actor, authenticate, check
from pulse_console.engine.service import EngineStatus
from pulse_console.services.ops_metrics import OpsSnapshot
from pulse_console.services.roles import Action

router = APIRouter(tags=["prometheus"])
JOB_STATES = ("PENDING", "RUNNING", "FINISHED", "FAILED", "PAUSED")


def families(ops: OpsSnapshot, engine: EngineStatus) -> Iterator[Metric]:
    """The metric families of one client's snapshot and engine state."""
    c = ops.client
    runs = CounterMetricFamily(
        "pulse_job_runs", "Job runs by outcome", labels=["client", "job", "source", "outcome"]
    )
    durations = SummaryMetricFamily(
        "pulse_job_run_duration_seconds",
        "Durations of ended job runs",
        labels=["client", "job", "source", "outcome"],
    )
    records = CounterMetricFamily(
        "pulse_records_loaded", "Records loaded by job runs", labels=["client", "job", "source"]
    )
    per_job: dict[tuple[str, str], int] = defaultdict(int)
    per_source: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for t in ops.runs:
        runs.add_metric([c, t.job, t.source, t.outcome], t.runs)
        if t.finished_runs:
            durations.add_metric([c, t.job, t.source, t.outcome], t.finished_runs, t.seconds)
        per_job[(t.job, t.source)] += t.records
        sums = per_source[t.source]
        sums[0] += t.api_calls
        sums[1] += t.retries
        sums[2] += t.rate_limit_waits
    for (job, source), value in sorted(per_job.items()):
        records.add_metric([c, job, source], value)
    yield from (runs, durations, records)
    for index, (name, text) in enumerate(
        [
            ("pulse_api_calls", "API requests made by job runs"),
            ("pulse_api_retries", "API requests retried by job runs"),
            ("pulse_rate_limit_waits", "Waits for a source's rate limit to reset"),
        ]
    ):
        family = CounterMetricFamily(name, text, labels=["client", "source"])
        for source, sums in sorted(per_source.items()):
            family.add_metric([c, source], sums[index])
        yield family
    yield from _integrations(ops)
    yield from _engine(c, engine)


def _integrations(ops: OpsSnapshot) -> Iterator[Metric]:
    c, labels = ops.client, ["client", "integration", "source"]
    remaining = GaugeMetricFamily("pulse_api_budget_remaining", "API budget left", labels=labels)
    limit = GaugeMetricFamily("pulse_api_budget_limit", "API budget per window", labels=labels)
    stamp = GaugeMetricFamily(
        "pulse_last_successful_sync_timestamp_seconds",
        "When the integration's job last finished a run successfully (Unix time)",
        labels=labels,
    )
    age = GaugeMetricFamily(
        "pulse_last_successful_sync_age_seconds",
        "Seconds since the integration's last successful sync (+Inf: never)",
        labels=labels,
    )
    active = GaugeMetricFamily(
        "pulse_integration_active", "1 when the integration is active", labels=labels
    )
    for i in ops.integrations:
        key = [c, i.name, i.source]
        active.add_metric(key, 1.0 if i.active else 0.0)
        if i.budget is not None:
            remaining.add_metric(key, i.budget.remaining)
            if i.budget.limit is not None:
                limit.add_metric(key, i.budget.limit)
        if i.last_success_at is None:
            age.add_metric(key, math.inf)
        else:
            stamp.add_metric(key, i.last_success_at.timestamp())
            age.add_metric(key, max((ops.at - i.last_success_at).total_seconds(), 0.0))
    yield from (remaining, limit, stamp, age, active)


def _engine(client: str, engine: EngineStatus) -> Iterator[Metric]:
    leader = GaugeMetricFamily(
        "pulse_orchestrator_leader",
        "1 while a worker or a console drives the client",
        labels=["client"],
    )
    leader.add_metric([client], 0.0 if engine.leader is None else 1.0)
    paused = GaugeMetricFamily(
        "pulse_orchestrator_paused", "1 while the orchestrator is paused", labels=["client"]
    )
    paused.add_metric([client], 1.0 if engine.orchestrator_paused else 0.0)
    status = GaugeMetricFamily(
        "pulse_job_status", "1 for the job's current status", labels=["client", "job", "status"]
    )
    for job in engine.jobs:
        for word in JOB_STATES:
            status.add_metric([client, job.name, word], 1.0 if job.status == word else 0.0)
    yield from (leader, paused, status)


class _Snapshot:
    """A one-scrape collector over already read data."""

    def __init__(self, ops: OpsSnapshot, engine: EngineStatus) -> None:
        self.ops, self.engine = ops, engine

    def collect(self) -> Iterator[Metric]:
        return families(self.ops, self.engine)


def exposition(ops: OpsSnapshot, engine: EngineStatus) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Snapshot(ops, engine))
    return generate_latest(registry)


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {"content": {CONTENT_TYPE_LATEST.split(";")[0]: {}}, "description": "metrics"},
        **problems.responses(401, 403, 429),
    },
)
async def metrics(request: Request) -> Response:
    """Prometheus metrics of the client of the bearer token (a viewer token is enough)."""
    caller = await authenticate(request)
    check(caller, caller.client, Action.READ)
    face = acting(request, caller)

    def read() -> bytes:
        engine = face.engine(caller.client, actor(caller)).status()
        return exposition(face.ops(caller.client, datetime.now(UTC)), engine)

    return Response(await run_in_threadpool(read), media_type=CONTENT_TYPE_LATEST)
