"""Health checks: the database, each integration's API (as last tested) and API budget (as its
last run left it), the log dir's disk."""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import distinct_on

from pulse_console.services.integrations import list_integrations
from pulse_console.services.rate_budget import RateBudget
from storage.db import Database
from storage.models import Client, Job, JobRun

OK, WARN, FAIL, UNKNOWN = "OK", "WARN", "FAIL", "UNKNOWN"


@dataclass(frozen=True)
class HealthCheck:
    component: str
    state: str  # OK | WARN | FAIL | UNKNOWN — a word, never colour alone
    detail: str


def database_check(database: Database) -> HealthCheck:
    started = time.perf_counter()
    try:
        with database.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            latency = (time.perf_counter() - started) * 1000
            version = conn.execute(text("SHOW server_version")).scalar_one()
            size = conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
    except Exception as exc:
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        return HealthCheck("Database", FAIL, f"unreachable: {reason}")
    state = OK if latency < 200 else WARN
    return HealthCheck(
        "Database",
        state,
        f"{database.label} · PostgreSQL {version} · {latency:.0f} ms · {human_bytes(int(size))}",
    )


def last_budgets(database: Database, client: str) -> dict[int, tuple[int, RateBudget]]:
    """Integration id → (run id, budget) of its newest run that recorded one."""
    query = (
        select(Job.integration_id, JobRun.id, JobRun.stats)
        .join(Job, Job.id == JobRun.job_id)
        .join(Client, Client.id == JobRun.client_id)
        .where(Client.name == client, JobRun.stats.has_key("points_remaining"))
        .order_by(Job.integration_id, JobRun.started_at.desc(), JobRun.id.desc())
        .ext(distinct_on(Job.integration_id))
    )
    with database.session() as session:
        rows = session.execute(query).all()
    found = {}
    for integration_id, run_id, stats in rows:
        budget = RateBudget.from_stats(stats or {})
        if integration_id is not None and budget is not None:
            found[integration_id] = (run_id, budget)
    return found


def integration_checks(
    database: Database, client: str, now: datetime | None = None
) -> list[HealthCheck]:
    now = now or datetime.now(UTC)
    budgets = last_budgets(database, client)
    checks = []
    for item in list_integrations(database, client):
        if not item.active:
            checks.append(HealthCheck(f"API {item.name}", UNKNOWN, "deactivated"))
        elif item.last_test_ok is None:
            checks.append(HealthCheck(f"API {item.name}", UNKNOWN, "never tested (t to test)"))
        else:
            checks.append(
                HealthCheck(
                    f"API {item.name}",
                    OK if item.last_test_ok else FAIL,
                    item.last_test_message or "",
                )
            )
        if item.id in budgets:
            run_id, budget = budgets[item.id]
            checks.append(
                HealthCheck(
                    f"Budget {item.name}",
                    WARN if budget.low(now) else OK,
                    f"{budget.describe(now)} (after run {run_id})",
                )
            )
    return checks


def disk_check(log_dir: Path, warn_below: float = 0.1) -> HealthCheck:
    probe = log_dir
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    usage = shutil.disk_usage(probe)
    free = usage.free / usage.total if usage.total else 0.0
    return HealthCheck(
        "Log disk",
        OK if free >= warn_below else WARN,
        f"{log_dir} · {human_bytes(usage.free)} free of {human_bytes(usage.total)}",
    )


def report(
    database: Database, client: str, log_dir: Path, now: datetime | None = None
) -> list[HealthCheck]:
    db = database_check(database)
    checks = [db]
    if db.state != FAIL:
        checks += integration_checks(database, client, now)
    checks.append(disk_check(log_dir))
    return checks


def human_bytes(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"
