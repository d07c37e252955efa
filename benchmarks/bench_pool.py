"""Benchmark the worker pool: makespan of 24 clients' Jira syncs with 1, 2 and 4 workers.

Usage: python benchmarks/bench_pool.py [--clients 24] [--workers 1 2 4] [--concurrency 4]
       [--latency-ms 100] [--size tiny] [--url …]

Each client has its own Jira integration on a sandbox organisation served by a sandbox
server in its own process, every request delayed by ``--latency-ms``. For each worker count,
in a fresh scratch schema: the workers (`pulse-console worker --concurrency N`, separate
processes with separate connection pools) start with the orchestrator disabled; once all
beat, every client's orchestrator is enabled at once (t0) and the makespan is the time until
every client's job is FINISHED. Printed: the makespan, the speed-up over one worker, the
speed-up per added worker, and the time runs waited in the queue (procrastinate's
`deferred` → `started` events) at p50/p99. Then, with the largest pool idle, the
orchestrator's own overhead per run: 24 runs started one every 0.2 s, enqueue → start.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from connectors.sandbox.credentials import DEMO_JIRA
from connectors.sandbox.process import sandbox_process
from pulse_console.config import Settings
from pulse_console.engine.controls import Control
from pulse_console.engine.orchestrator import Orchestrator
from pulse_console.engine.queue import defer_run
from pulse_console.pipelines.registry import default_registry
from storage.db import Database
from storage.integrations import save_integration, secret_name
from storage.secrets import open_secret_store
from storage.tenancy import ensure_client
from storage.testing import find_test_server, schema_url, scratch_schema

ROOT = Path(__file__).resolve().parents[1]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


def seed(database: Database, data_dir: Path, clients: int, jira_url: str) -> None:
    secrets = open_secret_store(database.engine, data_dir, allow_keyring=False)
    made: list[tuple[int, int]] = []
    with database.session() as session:
        for n in range(clients):
            client_id = ensure_client(session, f"c{n:02d}")
            integration = save_integration(
                session,
                client_id=client_id,
                name="jira",
                type="jira",
                base_url=jira_url,
                config={"email": DEMO_JIRA.email, "windows": 1},
            )
            made.append((client_id, integration))
    for client_id, integration in made:  # once the clients are committed
        secrets.set(secret_name(client_id, integration), DEMO_JIRA.api_token)
    registry = default_registry()
    settings = Settings(data_dir=data_dir)
    with database.session() as session:
        ids = session.execute(text("SELECT id, name FROM clients ORDER BY id")).all()
    for _, name in ids:
        Orchestrator(database, settings, registry, client=name, log_dir=False).ensure_jobs()


def start_workers(url: str, count: int, concurrency: int, env: dict[str, str]) -> list[Any]:
    procs = []
    for n in range(count):
        data = tempfile.mkdtemp(prefix="bench-pool-")
        command = [sys.executable, "-m", "pulse_console.cli", "worker", "--database-url", url]
        command += ["--data-dir", data, "--concurrency", str(concurrency), "--name", f"w{n}"]
        procs.append(
            subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
        )
    return procs


def wait_for(engine: Engine, sql: str, expected: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            if conn.execute(text(sql)).scalar_one() >= expected:
                return
        time.sleep(0.05)
    raise RuntimeError(f"timed out: {sql}")


def queue_waits(engine: Engine) -> list[float]:
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT extract(epoch FROM s.at - d.at) FROM procrastinate_events d"
                " JOIN procrastinate_events s ON s.job_id = d.job_id AND s.type = 'started'"
                " WHERE d.type = 'deferred'"
            )
        ).scalars()
        return [float(v) * 1000 for v in rows]


def run_pool(
    url: str, env: dict[str, str], workers: int, args: argparse.Namespace, jira: str
) -> dict[str, Any]:
    with scratch_schema(url) as engine:
        database = Database(engine=engine, embedded=False)
        data_dir = Path(tempfile.mkdtemp(prefix="bench-pool-seed-"))
        seed(database, data_dir, args.clients, jira)
        procs = start_workers(schema_url(url, engine), workers, args.concurrency, env)
        try:
            wait_for(engine, "SELECT count(*) FROM pool_workers", workers, 60)
            t0 = time.perf_counter()
            with engine.begin() as conn:
                conn.execute(
                    text(
                        "INSERT INTO settings (client_id, key, value)"
                        " SELECT id, 'orchestrator.paused', 'false' FROM clients"
                    )
                )
            done = "SELECT count(*) FROM jobs WHERE status = 'FINISHED' AND last_run_at IS NOT NULL"
            wait_for(engine, done, args.clients, 600)
            makespan = time.perf_counter() - t0
            waits = queue_waits(engine)
            overhead: list[float] = []
            if workers == max(args.workers):
                overhead = idle_overhead(database, data_dir, engine)
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.wait(30)
            database.dispose()
    return {"workers": workers, "makespan": makespan, "waits": waits, "overhead": overhead}


def idle_overhead(database: Database, data_dir: Path, engine: Engine) -> list[float]:
    """Enqueue → start of runs started one at a time while the pool has free slots."""
    with engine.connect() as conn:
        before = conn.execute(text("SELECT coalesce(max(id), 0) FROM procrastinate_jobs")).scalar()
        names = conn.execute(text("SELECT name FROM clients ORDER BY id")).scalars().all()
    settings = Settings(data_dir=data_dir)
    registry = default_registry()
    for name in names:
        orch = Orchestrator(
            database, settings, registry, client=name, dispatch=defer_run, log_dir=False
        )
        orch.control(Control.START, "jira")
        time.sleep(0.2)
    wait_for(engine, "SELECT count(*) FROM jobs WHERE status = 'FINISHED'", len(names), 600)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT extract(epoch FROM s.at - d.at) FROM procrastinate_events d"
                " JOIN procrastinate_events s ON s.job_id = d.job_id AND s.type = 'started'"
                " WHERE d.type = 'deferred' AND d.job_id > :before"
            ),
            {"before": before},
        ).scalars()
        return [float(v) * 1000 for v in rows]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=24)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--latency-ms", type=float, default=100)
    parser.add_argument("--size", default="tiny", choices=["tiny", "small"])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--url", help="PostgreSQL URL (default: the test server)")
    args = parser.parse_args()
    url = args.url or find_test_server()
    from cryptography.fernet import Fernet

    key = Fernet.generate_key().decode()
    os.environ["PULSE_ENCRYPTION_KEY"] = key
    env = {
        **os.environ,
        "PULSE_ENCRYPTION_KEY": key,
        "PULSE_ORCHESTRATOR__ENABLED": "false",
        "PULSE_POOL__TICK_SECONDS": "0.5",
    }
    scenario = {"latency": {"fixed_ms": args.latency_ms}}
    results = []
    with sandbox_process(args.seed, args.size, scenario) as urls:
        for workers in args.workers:
            result = run_pool(url, env, workers, args, urls["jira"])
            results.append(result)
            waits = result["waits"]
            print(
                f"{workers} worker(s) x {args.concurrency}: makespan {result['makespan']:.2f} s"
                f" for {args.clients} clients; queue wait p50 {percentile(waits, 50):.0f} ms"
                f" p99 {percentile(waits, 99):.0f} ms",
                flush=True,
            )
    base = results[0]["makespan"]
    for result in results[1:]:
        speedup = base / result["makespan"]
        added = result["workers"] - results[0]["workers"]
        print(
            f"speed-up with {result['workers']} workers: x{speedup:.2f}"
            f" ({(speedup - 1) / added:.2f} per added worker)"
        )
    overhead = results[-1]["overhead"]
    if overhead:
        print(
            f"orchestrator overhead per run (enqueue -> start, idle pool, {len(overhead)} runs):"
            f" p50 {statistics.median(overhead):.0f} ms p99 {percentile(overhead, 99):.0f} ms"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
