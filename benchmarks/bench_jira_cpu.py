"""CPU per issue of a full Jira sync, and a digest of what it stored.

Usage: python benchmarks/bench_jira_cpu.py [--size small] [--runs 3] [--in-process]

``peak_rss_mb_first_sync`` is the process's peak memory when the first sync ended: with the
sandbox served (the default), the sync's own, so medium against large shows whether it grows
with the organisation (``--runs 0`` measures that one sync alone).

The sync is CPU-bound in one Python process, so its speed is its CPU time per issue. Each
run is a full sync of the ``--size`` organisation into a scratch schema; the process's CPU
time (every thread) over the run, divided by the issues synced, is ``cpu_ms_per_issue``.
By default the organisation is served by a sandbox server in its own process, so the
simulator's CPU is not counted (as a real Jira's never is); ``--in-process`` uses the
in-process simulator and subtracts the CPU its handler spends in the calling thread
(``sim_ms_per_issue``, reported beside it).

After each run the stored rows (work items, transitions, links, people, metadata; without
surrogate ids and timestamps the database stamps) are hashed into ``digest``: a change that
only makes the sync faster keeps it as it was, one that alters what is stored does not.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import statistics
import sys
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Connection, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from connectors.http import RetryPolicy
from connectors.sandbox.credentials import DEMO_JIRA
from connectors.sandbox.jira import JiraSimulator
from connectors.sandbox.org import Org
from connectors.sandbox.process import sandbox_process
from pulse_console.pipelines.jira.sync import JiraSync
from storage.db import Database
from storage.testing import find_test_server, scratch_schema
from tests.pipelines.harness import BASE_URL, add_integration, context

# What a digest covers: each table's rows as JSON, without what differs between two equal
# syncs (surrogate ids, the tenant's ids, timestamps the database stamps), the owning work
# item named by its external id.
_DROPPED = "- 'id' - 'client_id' - 'integration_id' - 'work_item_id' - 'created' - 'updated'"
_DIGESTED = {
    "work_items": f"SELECT to_jsonb(t) {_DROPPED} FROM work_items t",
    "work_item_transitions": (
        f"SELECT to_jsonb(t) {_DROPPED} || jsonb_build_object('item', w.external_id)"
        " FROM work_item_transitions t JOIN work_items w ON w.id = t.work_item_id"
    ),
    "work_item_links": (
        f"SELECT to_jsonb(t) {_DROPPED} || jsonb_build_object('item', w.external_id)"
        " FROM work_item_links t JOIN work_items w ON w.id = t.work_item_id"
    ),
    "source_users": f"SELECT to_jsonb(t) {_DROPPED} FROM source_users t",
    "projects": f"SELECT to_jsonb(t) {_DROPPED} FROM projects t",
    "statuses": f"SELECT to_jsonb(t) {_DROPPED} FROM statuses t",
    "issue_types": f"SELECT to_jsonb(t) {_DROPPED} FROM issue_types t",
    "source_fields": f"SELECT to_jsonb(t) {_DROPPED} FROM source_fields t",
}


def stored_digests(conn: Connection, base: str | None = None) -> dict[str, str]:
    """A hash of each table's stored rows (order-free: rows sorted as text), and of all;
    the sandbox's ``base`` URL (its port differs between runs) is left out of the text."""
    everything = hashlib.sha256()
    out: dict[str, str] = {}
    for table, query in _DIGESTED.items():
        digest = hashlib.sha256()
        as_text = f"SELECT CAST(x AS text) FROM ({query}) AS s(x)"
        rows = sorted(str(r[0]) for r in conn.execute(text(as_text)))
        if base:
            rows = sorted(r.replace(base, "<sandbox>") for r in rows)
        digest.update(f"{table}:{len(rows)}\n".encode())
        for row in rows:
            digest.update(row.encode())
            digest.update(b"\n")
        out[table] = digest.hexdigest()[:12]
        everything.update(digest.digest())
    return {"all": everything.hexdigest()[:16], **out}


class _TimedSimulator:
    """The in-process simulator, with the CPU its handler spends (in the calling thread)
    added up, so it can be taken out of the sync's."""

    def __init__(self, org: Org) -> None:
        self.simulator = JiraSimulator(org, DEMO_JIRA)
        self.cpu = 0.0
        self._lock = threading.Lock()

    def handle(self, request: httpx.Request) -> httpx.Response:
        start = time.thread_time()
        try:
            response = self.simulator.handle(request)
            response.read()
            return response
        finally:
            spent = time.thread_time() - start
            with self._lock:
                self.cpu += spent


def one_run(url: str, base: str | None, make_transport: Callable[[], Any]) -> dict[str, Any]:
    with scratch_schema(url) as engine:
        database = Database(engine=engine, embedded=False)
        secrets = add_integration(database, base_url=base or BASE_URL)
        transport, sim = make_transport()
        pipeline = JiraSync(
            transport=transport, http_options={"retry": RetryPolicy(base_delay=0.01)}
        )
        cpu0, wall0 = time.process_time(), time.perf_counter()
        result = pipeline.run(context(database, secrets))
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # before the digest
        with engine.connect() as conn:
            digests = stored_digests(conn, base)
    issues = result.stats["issues"]
    sim_cpu = sim.cpu if sim is not None else 0.0
    return {
        "issues": issues,
        "seconds": round(wall, 2),
        "issues_per_s": round(issues / wall, 1),
        "cpu_ms_per_issue": round(1000 * (cpu - sim_cpu) / issues, 3),
        "sim_ms_per_issue": round(1000 * sim_cpu / issues, 3),
        "peak_rss_mb": round(peak, 1),
        "digest": digests.pop("all"),
        "tables": digests,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", default="small", choices=["tiny", "small", "medium", "large"])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--url", help="PostgreSQL URL (default: the test server)")
    parser.add_argument("--in-process", action="store_true", help="in-process simulator")
    args = parser.parse_args()
    url = args.url or find_test_server()
    print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}", flush=True)
    with ExitStack() as stack:
        base: str | None = None
        org: Org | None = None
        if args.in_process:
            org = Org(args.seed, args.size)
            org.warm_up()
        else:
            base = stack.enter_context(sandbox_process(args.seed, args.size, {}))["jira"]

        def make_transport() -> tuple[Any, _TimedSimulator | None]:
            if org is None:
                return None, None
            sim = _TimedSimulator(org)
            return httpx.MockTransport(sim.handle), sim

        # A first run warms the simulator's kept issue texts (and this process's imports);
        # it is reported but not counted.
        runs = []
        for n in range(args.runs + 1):
            out = one_run(url, base, make_transport)
            print(("warm-up " if n == 0 else f"run {n} ") + json.dumps(out), flush=True)
            if n == 0:
                first_peak = out["peak_rss_mb"]
            if n:
                runs.append(out)
    cpu = [r["cpu_ms_per_issue"] for r in runs] or [out["cpu_ms_per_issue"]]
    runs = runs or [out]  # --runs 0: the warm-up alone (a memory figure)
    summary = {
        "size": args.size,
        "sandbox": "in process" if args.in_process else "own process (HTTP)",
        "cpu_ms_per_issue_median": round(statistics.median(cpu), 3),
        "cpu_ms_per_issue_min": min(cpu),
        "issues_per_s_median": round(statistics.median(r["issues_per_s"] for r in runs), 1),
        "digests": sorted({r["digest"] for r in runs}),
        # The process's high-water mark when the first sync ended, before any digest read
        # the stored rows back: served (the default), the sync's own memory alone.
        "peak_rss_mb_first_sync": first_peak,
        "load_average": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
