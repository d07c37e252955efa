"""SIGKILL trials shared by the sync crash tests: run a child that kills itself at request
``kill_at``, rerun it uninterrupted, and compare with a run never interrupted."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text

from storage.testing import reused_schema, seed_tenant

ROOT = Path(__file__).resolve().parents[2]
Snapshot = dict[str, list[tuple[Any, ...]]]


# Every table a sync fills, children before parents; clients, integrations and their secrets
# stay. Cleared with DELETE, not TRUNCATE (the owner's right): trials run under row-level
# security as the suite's login.
SYNCED_TABLES = (
    "work_item_goals, work_item_releases, work_item_links, work_item_status_spans,"
    " work_item_transitions, work_item_revision_heads, work_items, goals, releases,"
    " checkpoints, projects, statuses, issue_types, source_fields, source_users,"
    " quarantined_payloads"
)


def clear_synced_rows(engine: Engine) -> None:
    """Back to "integration added, nothing synced yet" between trials."""
    with engine.begin() as conn:
        for table in SYNCED_TABLES.split(","):
            conn.execute(text(f"DELETE FROM {table.strip()}"))


def run_child(module: str, url: str, schema: str, kill_at: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", module, url, schema, str(kill_at)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def schema_of(engine: Engine) -> str:
    with engine.connect() as conn:
        return str(conn.execute(text("SELECT current_schema()")).scalar_one())


def sigkill_trials(
    pg_url: str,
    module: str,
    prepare: Callable[[Engine], object],
    snapshot: Callable[[Engine], Snapshot],
    *,
    trials: int,
    seed: int,
) -> tuple[int, Snapshot]:
    """Kill ``module``'s sync at ``trials`` random requests; each resumed run must end with
    exactly the rows of an uninterrupted one. → (requests of a whole run, its snapshot)."""
    with reused_schema(pg_url) as reference:
        seed_tenant(reference)
        prepare(reference)
        done = run_child(module, pg_url, schema_of(reference), 0)
        assert done.returncode == 0, done.stderr[-2000:]
        total = int(done.stdout.strip().split("=")[1])
        expected = snapshot(reference)
    points = sorted(random.Random(seed).sample(range(1, total + 1), min(trials, total)))
    for kill_at in points:
        with reused_schema(pg_url) as engine:
            seed_tenant(engine)
            prepare(engine)
            schema = schema_of(engine)
            killed = run_child(module, pg_url, schema, kill_at)
            assert killed.returncode == -signal.SIGKILL, (kill_at, killed.stderr[-2000:])
            resumed = run_child(module, pg_url, schema, 0)
            assert resumed.returncode == 0, resumed.stderr[-2000:]
            assert snapshot(engine) == expected, f"diverged after a kill at request {kill_at}"
    return total, expected
