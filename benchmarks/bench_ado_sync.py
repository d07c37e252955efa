"""Benchmark azure_devops_sync: a full sync of a generated organisation (default 20,000 work
items, 5,000 pull requests) from the simulator over an in-process transport, then an
incremental run. Reports work items/s, API calls per 1,000 work items, peak memory, and the
simulator's raw page rate measured in the same run (the same pages read with no pipeline),
so the pipeline's own cost is visible. ``--throttle`` serves with TSTU-style throttling.
``--windows N`` is the integration's ``windows`` (chains at once; 1 is one at a time) and
``--latency-ms N`` holds every answer N ms (a remote service; windows overlap the waits);
429s are those the integration's rate gate counted.

Usage: python benchmarks/bench_ado_sync.py [--items 20000] [--prs 5000] [--projects 2] [--throttle]
       [--windows 4] [--latency-ms 0] [--url postgresql+psycopg://…]
"""

from __future__ import annotations

import argparse
import json
import logging
import resource
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import text

from connectors.azure_devops import AzureDevOpsClient
from connectors.http import CancelToken, Secret
from connectors.http.gate import RateGate
from connectors.sandbox.azure_devops import AdoOrg, AzureDevOpsSimulator, TstuPolicy
from pulse_console.pipelines.azure_devops.sync import AzureDevOpsSync
from pulse_console.pipelines.azure_devops.transform import REVISION_FIELDS
from pulse_console.pipelines.base import IntegrationRef, RunContext, RunResult
from storage.db import Database
from storage.testing import find_test_server, scratch_schema, seed_tenant

PAT = "bench-pat"
BASE = "http://ado.bench/sandbox"


def _run(
    engine: Any,
    handle: Callable[[httpx.Request], httpx.Response],
    integration: IntegrationRef,
    gate: RateGate,
) -> RunResult:
    ctx = RunContext(
        client_id=1,
        client="acme",
        integration=integration,
        database=Database(engine=engine, embedded=False),
        run_id=1,
        cancel=CancelToken(),
        report=lambda p: None,
        log=logging.getLogger("bench"),
        secret=lambda name: PAT,
        clock=lambda: datetime.now(UTC),
    )
    return AzureDevOpsSync(transport=httpx.MockTransport(handle), gate=gate).run(ctx)


def delayed(
    handle: Callable[[httpx.Request], httpx.Response], seconds: float
) -> Callable[[httpx.Request], httpx.Response]:
    """``handle`` answering ``seconds`` late (the network and the service's own time)."""
    if seconds <= 0:
        return handle

    def late(request: httpx.Request) -> httpx.Response:
        time.sleep(seconds)
        return handle(request)

    return late


def raw_page_rate(sim: AzureDevOpsSimulator, org: AdoOrg) -> dict[str, float]:
    """The simulator alone through the same client: the revision feed in pages of 1,000 and
    workitemsbatch in 200s (what the sync spends most of its calls on)."""
    client = AzureDevOpsClient.create(BASE, Secret(PAT), transport=httpx.MockTransport(sim.handle))
    with client:
        t0, pages, revisions, token = time.perf_counter(), 0, 0, None
        while True:
            page = client.revisions_page(token, REVISION_FIELDS, page_size=1000)
            pages, revisions, token = pages + 1, revisions + len(page.items), page.continuation
            if page.is_last or not page.items:
                break
        feed = time.perf_counter() - t0
        ids = sorted(org.items)[:10_000]
        t1 = time.perf_counter()
        client.work_items(ids)
        batch = time.perf_counter() - t1
    return {
        "revision_pages_per_second": round(pages / feed, 1),
        "revisions_per_second": round(revisions / feed),
        "workitemsbatch_items_per_second": round(len(ids) / batch),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--prs", type=int, default=5_000)
    parser.add_argument("--projects", type=int, default=2)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--throttle", action="store_true", help="TSTU throttling on")
    parser.add_argument("--windows", type=int, default=4, help="the integration's windows")
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--url", default=None)
    args = parser.parse_args()
    t = time.perf_counter()
    org = AdoOrg(
        args.seed, "medium", work_items=args.items, pull_requests=args.prs, projects=args.projects
    )
    generated = time.perf_counter() - t
    policy = TstuPolicy(limit=400, block_at=800, window_seconds=2.0) if args.throttle else None
    sim = AzureDevOpsSimulator(org, PAT, throttle=policy)
    url = args.url or find_test_server()
    out: dict[str, Any] = {
        "work_items": len(org.items),
        "revisions": len(org.feed),
        "pull_requests": len(org.pull_requests),
        "builds": len(org.builds),
        "throttled": args.throttle,
        "windows": args.windows,
        "latency_ms": args.latency_ms,
        "generate_seconds": round(generated, 1),
    }
    with scratch_schema(url) as engine:
        seed_tenant(engine)
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO integrations (id, client_id, name, type, base_url, config)"
                    " VALUES (3, 1, 'ado', 'azure_devops', :u, CAST(:c AS jsonb))"
                ),
                {"u": BASE, "c": json.dumps({"windows": args.windows})},
            )
        integration = IntegrationRef(3, "ado", "azure_devops", BASE, {"windows": args.windows})
        handle = delayed(sim.handle, args.latency_ms / 1000)
        gate = RateGate()
        rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        t0 = time.perf_counter()
        full = _run(engine, handle, integration, gate)
        limited = gate.limited
        took = time.perf_counter() - t0
        rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        calls = dict(sim.calls)
        org.update(50)
        t1 = time.perf_counter()
        incremental = _run(engine, handle, integration, gate)
        took_inc = time.perf_counter() - t1
    raw = raw_page_rate(AzureDevOpsSimulator(org, PAT), org)
    items = full.stats["work_items"]
    out.update(
        full_seconds=round(took, 1),
        work_items_per_second=round(items / took, 1),
        records_per_second=round(full.records / took),
        api_calls=full.api_calls,
        api_calls_per_1000_work_items=round(1000 * full.api_calls / max(1, items), 1),
        calls_by_endpoint=calls,
        rows=full.records,
        transitions=full.stats["transitions"],
        wiql_splits=full.stats["wiql_splits"],
        throttled_responses=full.stats["throttled_responses"],
        rate_limit_waits=full.rate_limit_waits,
        responses_429=limited,
        peak_rss_mb=round(rss1 / 1024, 1),
        rss_growth_during_sync_mb=round((rss1 - rss0) / 1024, 1),
        incremental_seconds=round(took_inc, 2),
        incremental_api_calls=incremental.api_calls,
        incremental_work_items=incremental.stats["work_items"],
        incremental_transitions=incremental.stats["transitions"],
        simulator_raw=raw,
    )
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
