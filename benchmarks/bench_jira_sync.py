"""Benchmark the Jira sync against the sandbox simulator (in-process transport, no latency).

Usage: python benchmarks/bench_jira_sync.py [--size medium] [--no-dev-status] [--url …]
       [--latency-ms 150 --latency-size small]

Reports, for a full sync of the chosen organisation: issues/s, transitions/s, API calls per
1,000 issues, peak RSS; then an incremental run with no changes and one after mutations.
Beside them, two ceilings measured in the same process: the simulator's raw page rate (the
same search pages with changelogs, fetched and discarded) and `storage/load.py`'s rate on
the same work-item rows. Then the latency scenario (``--latency-ms`` per request through the
sandbox's fault file, on a ``--latency-size`` organisation served by a sandbox server in its
own process, or in process with ``--in-process``; 0 skips it): the sequential raw-page
ceiling (the second of two walks; the first, "cold", also reported, fills the simulator's
issue texts kept per org version, which the syncs then find) and the end-to-end full sync
rate under that latency with 1 and with ``--windows`` windows (chains at once; default 4).
The main run uses the integration's default windows (in threads: its transport is in
process). Served runs of more than one window run them in window processes
(pipelines/jira/window_process.py): ``cpu_ms_per_issue`` is then this process's alone, and
``window_process_peak_rss_mb`` their largest peak memory. Unless ``--in-process``, the no-latency
pair is measured once more with the ``--size`` organisation served by a sandbox server in
its own process on both sides (raw pages, and full syncs with 1 and 4 windows), so neither
side pays the simulator's CPU the way no sync against a real Jira does
(``served_no_latency``; its ``vs_lower_ceiling`` is against the served raw-page ceiling and
the load ceiling above). Also reported, beside those: ``ceiling_load_path_issues_per_s``,
the sync's whole writer path (work items with their transitions and status spans, a page a
transaction) on the same issues: what one writer can take at most, whatever the fetching.
Works in scratch schemas it drops afterwards.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from connectors.http import RetryPolicy, Secret
from connectors.jira import JiraClient, sync_jql
from connectors.jira.changelogs import split_embedded
from connectors.sandbox.credentials import DEMO_JIRA
from connectors.sandbox.faults import FaultInjector, FaultScenario, Latency
from connectors.sandbox.jira import JiraSimulator
from connectors.sandbox.mutations import MutationPlan
from connectors.sandbox.org import Org
from connectors.sandbox.process import sandbox_process
from pulse_console.pipelines.jira import transform
from pulse_console.pipelines.jira.load import IssuePage, load_page, page_rows
from pulse_console.pipelines.jira.sync import JiraSync
from pulse_console.pipelines.jira.transform import Tenant
from storage.db import Database
from storage.load import upsert
from storage.models import WorkItem
from storage.testing import find_test_server, scratch_schema
from tests.pipelines.harness import add_integration, context

BASE = "https://sandbox.atlassian.net"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def simulator(org: Org, latency_ms: float = 0) -> JiraSimulator:
    """The org behind the simulator, every request delayed by ``latency_ms``."""
    if not latency_ms:
        return JiraSimulator(org, DEMO_JIRA)
    scenario = FaultScenario(latency=Latency(fixed_ms=latency_ms))
    return JiraSimulator(org, DEMO_JIRA, FaultInjector(scenario))


def raw_page_ceiling(
    org: Org, latency_ms: float = 0, base_url: str | None = None
) -> tuple[float, int, list[Any]]:
    """Issues/s of fetching every search page (with changelogs) and discarding it (from the
    sandbox server at ``base_url`` when given, else the in-process simulator)."""
    transport = None if base_url else httpx.MockTransport(simulator(org, latency_ms).handle)
    client = JiraClient.cloud(
        base_url or BASE, DEMO_JIRA.email, Secret(DEMO_JIRA.api_token), transport=transport
    )
    keys = sorted(p.key for p in org.projects)
    start = time.perf_counter()
    count = 0
    sample: list[Any] = []
    for page in client.iter_search(sync_jql(keys), fields=["*navigable"], expand=["changelog"]):
        count += len(page.issues)
        if len(sample) < 5000:
            sample.extend(page.issues)
    seconds = time.perf_counter() - start
    return count / seconds, client.counters().requests, sample


def load_ceiling(database: Database, issues: list[Any]) -> float:
    """Rows/s of `storage.load.upsert` on the same work-item rows (into an empty table)."""
    t = Tenant(999, 999)
    rows = [transform.work_item_row(t, i, {}) for i in issues]
    start = time.perf_counter()
    with database.engine.begin() as conn:
        for i in range(0, len(rows), 100):
            upsert(conn, WorkItem, rows[i : i + 100], return_ids=True)
    return len(rows) / (time.perf_counter() - start)


def load_path_ceiling(database: Database, issues: list[Any]) -> float:
    """Issues/s of the sync's whole writer path on the same issues: `load.load_page` (the
    people, work items, their transitions from the embedded changelogs, status spans), 100
    issues a page and a transaction, into an integration of its own (empty). Not the goal's
    load ceiling (work-item rows only, as the issue measured it): the one writer's bound."""
    add_integration(database, name="load-path-ceiling")
    with database.engine.connect() as conn:
        client_id, integration_id = conn.execute(
            text("SELECT client_id, id FROM integrations WHERE name = 'load-path-ceiling'")
        ).one()
    t = Tenant(client_id, integration_id)
    batch, _ = split_embedded(issues)
    histories = batch.finish().histories
    pages = [
        page_rows(t, IssuePage(issues[i : i + 100], histories), {})
        for i in range(0, len(issues), 100)
    ]
    start = time.perf_counter()
    for rows in pages:
        with database.engine.begin() as conn:
            load_page(conn, t, rows, compare_versions=False)
    return len(issues) / (time.perf_counter() - start)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", default="medium", choices=["tiny", "small", "medium", "large"])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-dev-status", action="store_true")
    parser.add_argument("--url", help="PostgreSQL URL (default: the test server)")
    parser.add_argument("--latency-ms", type=float, default=150)
    parser.add_argument(
        "--latency-size", default="small", choices=["tiny", "small", "medium", "large"]
    )
    parser.add_argument("--windows", type=int, default=4, help="windows of the latency run")
    parser.add_argument(
        "--in-process",
        action="store_true",
        help="latency runs against the in-process simulator instead of a sandbox server",
    )
    args = parser.parse_args()
    url = args.url or find_test_server()
    org = Org(args.seed, args.size)
    t0 = time.perf_counter()
    org.warm_up()
    print(
        f"org {args.size}: {org.issue_count} issues, generated in {time.perf_counter() - t0:.1f}s"
    )
    report: dict[str, Any] = {"size": args.size, "issues": org.issue_count}

    with scratch_schema(url) as engine:
        database = Database(engine=engine, embedded=False)
        secrets = add_integration(database, config={"dev_status": not args.no_dev_status})
        sim = simulator(org)
        options = {"retry": RetryPolicy(base_delay=0.01)}

        def run(full: bool = False) -> dict[str, Any]:
            pipeline = JiraSync(
                full=full, transport=httpx.MockTransport(sim.handle), http_options=options
            )
            start, cpu = time.perf_counter(), time.process_time()
            result = pipeline.run(context(database, secrets))
            seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
            s = result.stats
            return {
                "mode": s["mode"],
                "seconds": round(seconds, 2),
                "issues": s["issues"],
                "written": s["inserted"] + s["updated"],
                "transitions": s["transitions"],
                "links": s["links"],
                "deactivated": s["deactivated"],
                "api_calls": result.api_calls,
                "issues_per_s": round(s["issues"] / seconds, 1),
                "transitions_per_s": round(s["transitions"] / seconds, 1),
                "calls_per_1000_issues": round(1000 * result.api_calls / max(s["issues"], 1), 1),
                # The simulator's CPU included (it runs in this process here).
                "cpu_ms_per_issue": round(1000 * cpu / max(s["issues"], 1), 3),
                "peak_rss_mb": round(peak_rss_mb(), 1),
            }

        report["full"] = run()
        print("full", json.dumps(report["full"]))
        report["incremental_no_change"] = run()
        print("incremental (no change)", json.dumps(report["incremental_no_change"]))
        org.apply(MutationPlan(create=50, update=200, move=20, delete=20))
        report["incremental_after_changes"] = run()
        print("incremental (changes)", json.dumps(report["incremental_after_changes"]))
        with engine.connect() as conn:
            report["rows"] = {
                n: conn.execute(text(f"SELECT count(*) FROM {n}")).scalar_one()
                for n in ("work_items", "work_item_transitions", "work_item_links")
            }

        rate, requests, sample = raw_page_ceiling(org)
        report["ceiling_raw_pages_issues_per_s"] = round(rate, 1)
        report["ceiling_raw_pages_requests"] = requests
        report["ceiling_load_rows_per_s"] = round(load_ceiling(database, sample), 1)
        report["ceiling_load_path_issues_per_s"] = round(load_path_ceiling(database, sample), 1)
        lower = min(rate, report["ceiling_load_rows_per_s"])
        report["full_vs_lower_ceiling"] = round(report["full"]["issues_per_s"] / lower, 2)
    if not args.in_process:
        # The same pair with the simulator's CPU out of the measured process on both sides
        # (as a real Jira's always is): raw pages and full syncs from a sandbox server.
        served = latency_scenario(url, args.seed, args.size, 0, 4, served=True)
        lower = min(served["ceiling_raw_pages_issues_per_s"], report["ceiling_load_rows_per_s"])
        served["lower_ceiling"] = lower
        # For reading the figures, not the goal: the one writer's bound (see load_path_ceiling).
        served["ceiling_load_path_issues_per_s"] = report["ceiling_load_path_issues_per_s"]
        for n in (1, 4):
            served[f"windows_{n}"]["vs_lower_ceiling"] = round(
                served[f"windows_{n}"]["issues_per_s"] / lower, 2
            )
        report["served_no_latency"] = served
        print("served, no latency", json.dumps(served), flush=True)
    if args.latency_ms:
        report["latency"] = latency_scenario(
            url,
            args.seed,
            args.latency_size,
            args.latency_ms,
            args.windows,
            served=not args.in_process,
        )
    print(json.dumps(report, indent=2))
    return 0


def latency_scenario(
    url: str, seed: int, size: str, latency_ms: float, windows: int, *, served: bool
) -> dict[str, Any]:
    """Raw-page ceiling and end-to-end full syncs (1 and ``windows`` windows) with
    ``latency_ms`` on every request; ``served``: the sandbox in its own process over HTTP
    (else the in-process simulator, whose CPU then competes with the sync's)."""
    org = Org(seed, size)
    org.warm_up()
    with ExitStack() as stack:
        faults = {"latency": {"fixed_ms": latency_ms}} if latency_ms else {}
        served_at = stack.enter_context(sandbox_process(seed, size, faults)) if served else {}
        base = served_at.get("jira")
        return _latency_runs(url, org, latency_ms, windows, base)


def _latency_runs(
    url: str, org: Org, latency_ms: float, windows: int, base: str | None
) -> dict[str, Any]:
    # Walked twice: the simulator keeps issues' JSON per org version, which the syncs after
    # the first walk find ready; the ceiling is the second (warm) walk, like them.
    cold, _, _ = raw_page_ceiling(org, latency_ms, base)
    rate, requests, _ = raw_page_ceiling(org, latency_ms, base)
    out: dict[str, Any] = {
        "size": org.size.value,
        "latency_ms": latency_ms,
        "sandbox": "own process (HTTP)" if base else "in process",
        "issues": org.issue_count,
        "ceiling_raw_pages_cold_issues_per_s": round(cold, 1),
        "ceiling_raw_pages_issues_per_s": round(rate, 1),
        "ceiling_raw_pages_requests": requests,
    }
    for n in sorted({1, windows}):
        with scratch_schema(url) as engine:
            database = Database(engine=engine, embedded=False)
            secrets = add_integration(database, config={"windows": n}, base_url=base or BASE)
            transport = None if base else httpx.MockTransport(simulator(org, latency_ms).handle)
            pipeline = JiraSync(
                transport=transport, http_options={"retry": RetryPolicy(base_delay=0.01)}
            )
            start, cpu = time.perf_counter(), time.process_time()
            result = pipeline.run(context(database, secrets))
            seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        issues = result.stats["issues"]
        out[f"windows_{n}"] = {
            "issues_per_s": round(issues / seconds, 1),
            "vs_raw_ceiling": round(issues / seconds / rate, 2),
            "api_calls": result.api_calls,
            "calls_per_1000_issues": round(1000 * result.api_calls / max(issues, 1), 1),
            # Without the simulator's CPU when it is served by its own process.
            "cpu_ms_per_issue": round(1000 * cpu / max(issues, 1), 3),
            "peak_rss_mb": round(peak_rss_mb(), 1),
            "window_processes": result.stats["window_processes"],
            "window_process_peak_rss_mb": result.stats["window_process_peak_rss_mb"],
        }
        print(
            f"{latency_ms:g} ms latency,",
            n,
            "window(s)",
            json.dumps(out[f"windows_{n}"]),
            flush=True,
        )
    return out


if __name__ == "__main__":
    raise SystemExit(main())
