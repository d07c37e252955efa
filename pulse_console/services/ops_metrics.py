"""Operational counters of one client, read from the tables where they live (`job_runs`,
`jobs`, `integrations`), so any process — a worker, `serve`, a standby — can export them.

Per job and outcome: runs, their summed duration (finished runs), records loaded, API calls,
retries and rate-limit waits. Per integration: when its job last finished a run
successfully, and the API budget its newest run left (health.last_budgets).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from pulse_console.engine.states import RunStatus
from pulse_console.services.health import last_budgets
from pulse_console.services.rate_budget import RateBudget
from storage.db import Database
from storage.models import Client, Integration, Job, JobRun


@dataclass(frozen=True)
class RunTotals:
    """The runs of one job that ended one way (or are RUNNING)."""

    job: str
    source: str
    outcome: str
    runs: int
    finished_runs: int  # runs with a finished_at (their durations are summed)
    seconds: float
    records: int
    api_calls: int
    retries: int
    rate_limit_waits: int


@dataclass(frozen=True)
class IntegrationState:
    name: str
    source: str
    active: bool
    last_success_at: datetime | None
    budget: RateBudget | None


@dataclass(frozen=True)
class OpsSnapshot:
    client: str
    at: datetime
    runs: list[RunTotals]
    integrations: list[IntegrationState]


def snapshot(database: Database, client: str, now: datetime) -> OpsSnapshot:
    duration = func.extract("epoch", JobRun.finished_at - JobRun.started_at)
    source = func.coalesce(Integration.type, "unknown")
    runs = (
        select(
            Job.name,
            source,
            JobRun.status,
            func.count(),
            func.count(JobRun.finished_at),
            func.coalesce(func.sum(duration), 0.0),
            func.coalesce(func.sum(JobRun.records), 0),
            func.coalesce(func.sum(JobRun.api_calls), 0),
            func.coalesce(func.sum(JobRun.retries), 0),
            func.coalesce(func.sum(JobRun.rate_limit_waits), 0),
        )
        .join(Job, Job.id == JobRun.job_id)
        .join(Client, Client.id == JobRun.client_id)
        .outerjoin(Integration, Integration.id == Job.integration_id)
        .where(Client.name == client)
        .group_by(Job.name, source, JobRun.status)
        .order_by(Job.name, JobRun.status)
    )
    last_success = (
        select(Job.integration_id, func.max(JobRun.finished_at))
        .join(Job, Job.id == JobRun.job_id)
        .where(JobRun.status == RunStatus.FINISHED, Job.integration_id.is_not(None))
        .group_by(Job.integration_id)
        .subquery()
    )
    integrations = (
        select(Integration.id, Integration.name, Integration.type, Integration.active)
        .add_columns(last_success.c[1])
        .join(Client, Client.id == Integration.client_id)
        .outerjoin(last_success, last_success.c.integration_id == Integration.id)
        .where(Client.name == client)
        .order_by(Integration.name)
    )
    budgets = last_budgets(database, client)
    with database.session() as session:
        totals = [
            RunTotals(
                job=name,
                source=str(kind),
                outcome=str(status),
                runs=int(count),
                finished_runs=int(finished),
                seconds=float(seconds),
                records=int(records),
                api_calls=int(calls),
                retries=int(retries),
                rate_limit_waits=int(waits),
            )
            for name, kind, status, count, finished, seconds, records, calls, retries, waits in (
                session.execute(runs).all()
            )
        ]
        states = [
            IntegrationState(
                name=name,
                source=kind,
                active=bool(active),
                last_success_at=success,
                budget=budgets[integration_id][1] if integration_id in budgets else None,
            )
            for integration_id, name, kind, active, success in session.execute(integrations).all()
        ]
    return OpsSnapshot(client=client, at=now, runs=totals, integrations=states)
