"""Benchmark the Aha! sync against the simulator enforcing the real limits (20/s, 300/min).

Usage: python benchmarks/bench_aha_sync.py [--features 10000] [--one-product 4200] [--socket]

First the lists alone: every page fetched with the real pacing and discarded (what the
simulator and client cost, without the database). Scenario 1: a full sync of an account
with ``--features`` features (their requirements, epics, ideas, releases, goals and
initiatives) over the small organisation's four products, then an incremental run after
changes. Scenario 2 (``--one-product N``, 0 to skip): a full
sync of one product of N features — the issue's "4,200 features within 10 minutes".

Reported per run: wall seconds, records (work items + releases + goals read; requirements
come inside their features), records/s, and the listed records/s against the ceiling the
limits allow (300 requests/min x 200 records a page = 1,000 records/s), API calls and calls
per 1,000 records, 429s met and seconds spent pacing. The simulator runs on the real clock
(in-process transport by default; ``--socket`` serves it on 127.0.0.1). Works in scratch
schemas it drops afterwards.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from connectors.aha import MAX_PER_PAGE, RATE_PER_MINUTE, AhaClient
from connectors.http import Secret
from connectors.sandbox.aha import DEMO_AHA_KEY, AhaMutation, AhaOrg, AhaSimulator
from connectors.sandbox.org import Org
from connectors.sandbox.server import SandboxServer
from pulse_console.pipelines.aha.extract import plan
from pulse_console.pipelines.aha.sync import AhaSync
from storage.db import Database
from storage.testing import find_test_server, scratch_schema
from tests.pipelines.aha_support import add_aha_integration
from tests.pipelines.harness import context

CEILING = RATE_PER_MINUTE / 60 * MAX_PER_PAGE  # records/s the limits allow at best


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def raw_fetch(aha: AhaOrg) -> dict[str, Any]:
    """The same list pages fetched with the real pacing and discarded: the simulator's and
    the client's share of a sync, without the database."""
    sim = AhaSimulator(aha)
    client = AhaClient.connect(
        "https://sandbox.aha.io", Secret(DEMO_AHA_KEY), transport=httpx.MockTransport(sim.handle)
    )
    started = time.perf_counter()
    listed = 0
    with client:
        for step in plan(list(client.iter_products())):
            page = 1
            while True:
                result = client.list_page(step.spec, step.product_id, page=page)
                listed += len(result.items)
                if result.is_last:
                    break
                page += 1
        calls = client.counters().requests
    seconds = time.perf_counter() - started
    return {
        "seconds": round(seconds, 1),
        "listed_records": listed,
        "listed_records_per_s": round(listed / seconds, 1),
        "api_calls": calls,
        "responses_429": sim.rate_limited,
    }


def run_once(
    database: Database, sim: AhaSimulator, secrets: Any, socket: bool, full: bool = False
) -> dict[str, Any]:
    before = sim.rate_limited
    if socket:
        server = SandboxServer({"aha": sim.handle}).start()
        url = server.base_urls["aha"]
        pipeline = AhaSync(full=full)
        # The integration row points at the sandbox's URL for this run.
        with database.engine.begin() as conn:
            conn.exec_driver_sql("UPDATE integrations SET base_url = %s", (url,))
    else:
        server = None
        pipeline = AhaSync(full=full, transport=httpx.MockTransport(sim.handle))
    started = time.perf_counter()
    try:
        result = pipeline.run(context(database, secrets))
    finally:
        if server is not None:
            server.stop()
    seconds = time.perf_counter() - started
    records = result.records
    listed = result.stats["records"]
    return {
        "mode": result.stats["mode"],
        "seconds": round(seconds, 1),
        "records": records,
        "listed_records": listed,
        "records_per_s": round(records / seconds, 1),
        "listed_records_per_s": round(listed / seconds, 1),
        "ceiling_records_per_s": CEILING,
        "listed_share_of_ceiling": round(listed / seconds / CEILING, 3),
        "api_calls": result.api_calls,
        "calls_per_1000_records": round(result.api_calls / max(records, 1) * 1000, 2),
        "responses_429": sim.rate_limited - before,
        "pacing_seconds": result.stats["pacing_seconds"],
        "deactivated": result.stats["deactivated"],
    }


def scenario(
    pg_url: str, aha: AhaOrg, config: dict[str, Any], socket: bool, *, mutate: bool
) -> list[dict[str, Any]]:
    runs = []
    with scratch_schema(pg_url) as engine:
        database = Database(engine=engine, embedded=False)
        secrets = add_aha_integration(database, config=config)
        sim = AhaSimulator(aha)  # the real limits, on the real clock
        runs.append(run_once(database, sim, secrets, socket))
        if mutate:
            aha.apply(AhaMutation(create=50, update=200, delete=20))
            runs.append(run_once(database, sim, secrets, socket))
    return runs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--features", type=int, default=10_000)
    parser.add_argument("--one-product", type=int, default=4_200)
    parser.add_argument("--socket", action="store_true")
    args = parser.parse_args()
    pg_url = find_test_server()
    report: dict[str, Any] = {}

    started = time.perf_counter()
    aha = AhaOrg(Org(7, "small"), features=args.features)
    generated = time.perf_counter() - started
    records = sum(1 for r in aha.records.values()) + len(aha.releases) + len(aha.goals)
    report["account"] = {
        "products": len(aha.products),
        "features": args.features,
        "records": records,
        "generated_in_s": round(generated, 1),
    }
    report["lists_fetched_and_discarded"] = raw_fetch(aha)
    report["account_sync"] = scenario(pg_url, aha, {}, args.socket, mutate=True)

    if args.one_product:
        one = AhaOrg(Org(7, "tiny"), features=args.one_product * 2)
        prefix = one.products[0].prefix
        config = {"products": [prefix]}
        report["one_product"] = {
            "features": len(one.live("feature", 0)),
            "runs": scenario(pg_url, one, config, args.socket, mutate=False),
        }
    report["peak_rss_mb"] = round(peak_rss_mb(), 1)
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
