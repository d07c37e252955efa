"""Benchmark github_sync: a full sync of a generated organisation (large: 20,000 PRs) from the
simulator with no latency, then an incremental run. Reports PRs/s, requests, GraphQL points
spent (total and per 100 PRs, with GitHub's documented formula for comparison) and peak memory.

Then the latency scenario (``--latency-ms`` per request through the sandbox's fault injector,
on a ``--latency-size`` organisation; 0 skips it): the sequential raw-page ceiling (every
repository's pull request pages, completed, fetched one after another and discarded) and the
end-to-end full sync with 1 and with ``--windows`` repositories at once.

Usage: python benchmarks/bench_github_sync.py [--size large] [--url postgresql+psycopg://…]
       [--latency-ms 150 --latency-size medium --windows 4]
"""

from __future__ import annotations

import argparse
import json
import logging
import time
import tracemalloc
from contextlib import ExitStack
from datetime import UTC, datetime
from typing import Any

import httpx

from connectors.github import GitHubClient, PageSizes, estimate, queries
from connectors.http import CancelToken, Secret
from connectors.sandbox.credentials import DEMO_GITHUB_TOKEN
from connectors.sandbox.faults import FaultInjector, FaultScenario, Latency
from connectors.sandbox.github import GitHubSimulator
from connectors.sandbox.org import Org
from connectors.sandbox.process import sandbox_process
from pulse_console.pipelines.base import IntegrationRef, RunContext, RunResult
from pulse_console.pipelines.github import extract
from pulse_console.pipelines.github.options import GitHubSyncConfig
from pulse_console.pipelines.github.sync import GitHubSync
from storage.db import Database
from storage.testing import find_test_server, scratch_schema, seed_tenant


def _run(
    engine: Any, transport: httpx.BaseTransport | None, integration: IntegrationRef
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
        secret=lambda name: DEMO_GITHUB_TOKEN,
        clock=lambda: datetime.now(UTC),
    )
    return GitHubSync(transport=transport).run(ctx)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", default="large")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--url", default=None)
    parser.add_argument("--deployments", default="off", help="off|graphql (PR figures only)")
    parser.add_argument("--latency-ms", type=float, default=150)
    parser.add_argument("--latency-size", default="medium")
    parser.add_argument("--windows", type=int, default=4, help="repositories at once")
    parser.add_argument("--skip-main", action="store_true", help="only the latency scenario")
    parser.add_argument(
        "--in-process",
        action="store_true",
        help="latency runs against the in-process simulator instead of a sandbox server",
    )
    args = parser.parse_args()
    url = args.url or find_test_server()
    if args.skip_main:
        print(json.dumps(latency_scenario(url, args), indent=2))
        return
    org = Org(args.seed, args.size)
    org.warm_up()
    sim = GitHubSimulator(org, points_per_hour=10_000_000)
    orgs = [c.github_org for c in org.clients]
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
        full = _run(engine, httpx.MockTransport(sim.handle), integration)
        took = time.perf_counter() - t0
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        t1 = time.perf_counter()
        incremental = _run(engine, httpx.MockTransport(sim.handle), integration)
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
    if args.latency_ms:
        out["latency"] = latency_scenario(url, args)
    print(json.dumps(out, indent=2))


def _add_integration(engine: Any, config: dict[str, Any], base_url: str) -> IntegrationRef:
    from sqlalchemy import text

    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO integrations (id, client_id, name, type, base_url, config)"
                " VALUES (2, 1, 'gh', 'github', :u, CAST(:c AS jsonb))"
            ),
            {"c": json.dumps(config), "u": base_url},
        )
    return IntegrationRef(2, "gh", "github", base_url, config)


def latency_scenario(url: str, args: argparse.Namespace) -> dict[str, Any]:
    """Sequential raw-page ceiling, then full syncs with 1 and ``--windows`` repositories
    at once, every request delayed by ``--latency-ms``; the sandbox in its own process over
    HTTP (``--in-process``: the simulator in this one, its CPU then competing with the sync's)."""
    org = Org(args.seed, args.latency_size)
    org.warm_up()
    with ExitStack() as stack:
        faults = {"latency": {"fixed_ms": args.latency_ms}}
        base = None
        if not args.in_process:
            base = stack.enter_context(sandbox_process(args.seed, args.latency_size, faults))[
                "github"
            ]
        return _latency_runs(url, args, org, base)


def _latency_runs(url: str, args: argparse.Namespace, org: Org, base: str | None) -> dict[str, Any]:
    faults = FaultScenario(latency=Latency(fixed_ms=args.latency_ms))

    def transport() -> httpx.BaseTransport | None:
        if base:
            return None
        sim = GitHubSimulator(org, FaultInjector(faults), points_per_hour=10_000_000)
        return httpx.MockTransport(sim.handle)

    config = {"orgs": [c.github_org for c in org.clients], "deployments": "off"}
    api = base or "https://api.github.com"
    client = GitHubClient.create(Secret(DEMO_GITHUB_TOKEN), api, transport=transport())
    cfg = GitHubSyncConfig.from_dict(config)
    start = time.perf_counter()
    fetched = 0
    for repo in org.repositories:
        fetch = extract.pull_requests(client, repo.full_name, cfg)
        cursor: str | None = None
        while True:
            page = fetch(cursor, None)
            fetched += len(page.items)
            if not page.has_next or not page.items:
                break
            cursor = page.end_cursor
    ceiling = fetched / (time.perf_counter() - start)
    out: dict[str, Any] = {
        "size": args.latency_size,
        "latency_ms": args.latency_ms,
        "sandbox": "own process (HTTP)" if base else "in process",
        "pull_requests": org.pull_request_count,
        "repositories": len(org.repositories),
        "ceiling_raw_pages_prs_per_s": round(ceiling, 1),
        "ceiling_requests": client.counters().requests,
    }
    for n in sorted({1, args.windows}):
        with scratch_schema(url) as engine:
            seed_tenant(engine)
            integration = _add_integration(engine, {**config, "windows": n}, api)
            t0 = time.perf_counter()
            result = _run(engine, transport(), integration)
            took = time.perf_counter() - t0
        prs = result.stats["pull_requests"]
        out[f"repos_at_once_{n}"] = {
            "prs_per_s": round(prs / took, 1),
            "vs_raw_ceiling": round(prs / took / ceiling, 2),
            "requests": result.api_calls,
            "points_per_100_prs": round(100 * result.stats["points_used"] / max(1, prs), 2),
        }
        print("latency", n, "repo(s) at once", json.dumps(out[f"repos_at_once_{n}"]), flush=True)
    return out


if __name__ == "__main__":
    main()
