"""Health checks: the database, each integration's API (as last tested), the log dir's disk."""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text

from pulse_console.services.integrations import list_integrations
from storage.db import Database

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


def integration_checks(database: Database, client: str) -> list[HealthCheck]:
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


def report(database: Database, client: str, log_dir: Path) -> list[HealthCheck]:
    db = database_check(database)
    checks = [db]
    if db.state != FAIL:
        checks += integration_checks(database, client)
    checks.append(disk_check(log_dir))
    return checks


def human_bytes(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"
