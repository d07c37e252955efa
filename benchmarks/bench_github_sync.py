"""Benchmark github_sync: a full sync of a generated organisation (large: 20,000 PRs) from the
simulator with no latency, then an incremental run. Reports PRs/s, requests, GraphQL points
spent (total and per 100 PRs, with GitHub's documented formula for comparison) and peak memory.

Usage: python benchmarks/bench_github_sync.py [--size large] [--url postgresql+psycopg://…]
"""

from __future__ import annotations

import argparse
import json
import logging
import time
import tracemalloc
from datetime import UTC, datetime
from typing import Any

import httpx

from connectors.github import PageSizes, estimate, queries
from connectors.http import CancelToken
from connectors.sandbox.credentials import DEMO_GITHUB_TOKEN
from connectors.sandbox.github import GitHubSimulator
from connectors.sandbox.org import Org
from pulse_console.pipelines.base import IntegrationRef, RunContext, RunResult
from pulse_console.pipelines.github.sync import GitHubSync
from storage.db import Database
from storage.testing import find_test_server, scratch_schema, seed_tenant


def _run(engine: Any, sim: GitHubSimulator, integration: IntegrationRef) -> RunResult:
    ctx = RunContext(
        client_id=1,
        client="acme",
        integration=integration,
        database=Database(engine=engine, embedded=False),
        run_id=1,
        cancel=CancelToken(),
        report=lambda p: None,
        log=logging.getLogger("bench"),
        secret=lambda name: DEMO_GITHUB_TOKEN,
        clock=lambda: datetime.now(UTC),
    )
    return GitHubSync(transport=httpx.MockTransport(sim.handle)).run(ctx)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", default="large")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--url", default=None)
    parser.add_argument("--deployments", default="off", help="off|graphql (PR figures only)")
    args = parser.parse_args()
    org = Org(args.seed, args.size)
    org.warm_up()
    sim = GitHubSimulator(org, points_per_hour=10_000_000)
    orgs = [c.github_org for c in org.clients]
    url = args.url or find_test_server()
    out: dict[str, Any] = {"size": args.size, "pull_requests": org.pull_request_count}
    with scratch_schema(url) as engine:
        seed_tenant(engine)
        from sqlalchemy import text

        config = {"orgs": orgs, "deployments": args.deployments}
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO integrations (id, client_id, name, type, base_url, config)"
                    " VALUES (2, 1, 'gh', 'github', 'https://api.github.com',"
                    " CAST(:c AS jsonb))"
                ),
                {"c": json.dumps(config)},
            )
        integration = IntegrationRef(2, "gh", "github", "https://api.github.com", config)
        tracemalloc.start()
        t0 = time.perf_counter()
        full = _run(engine, sim, integration)
        took = time.perf_counter() - t0
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        t1 = time.perf_counter()
        incremental = _run(engine, sim, integration)
        took_inc = time.perf_counter() - t1
    prs = full.stats["pull_requests"]
    page = estimate(queries.PULL_REQUESTS_PAGE, PageSizes().pr_variables())
    out.update(
        full_seconds=round(took, 1),
        prs_per_second=round(prs / took, 1),
        requests=full.api_calls,
        graphql_calls=full.stats["graphql_calls"],
        points_used=full.stats["points_used"],
        points_per_100_prs=round(100 * full.stats["points_used"] / max(1, prs), 2),
        documented_formula_per_100_prs=round(100 * page.points / PageSizes().prs, 2),
        formula_page=f"(1 + 50 x (4 + 5)) / 100 = {page.requests / 100:.2f} -> {page.points}",
        rows=full.records,
        links=full.stats["links"],
        peak_python_memory_mb=round(peak / 2**20, 1),
        incremental_seconds=round(took_inc, 2),
        incremental_requests=incremental.api_calls,
        incremental_prs=incremental.stats["pull_requests"],
        incremental_points=incremental.stats["points_used"],
    )
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
