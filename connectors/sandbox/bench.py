"""Time the Jira simulator over a real socket on the large org.

    python -m connectors.sandbox.bench [--size large] [--pages 200]

Walks ``search/jql`` pages of 100 issues with ``fields=*all`` and ``expand=changelog``
through one keep-alive connection (as a connector would), then fetches changelog pages, and
prints per-page latency percentiles. The target is well under 100 ms per page.
"""

from __future__ import annotations

import argparse
import statistics
import time

import httpx

from connectors.sandbox.credentials import DEMO_JIRA
from connectors.sandbox.jira import JiraSimulator
from connectors.sandbox.org import Org
from connectors.sandbox.server import SandboxServer


def _report(name: str, samples: list[float], sizes: list[int]) -> None:
    ms = sorted(s * 1000 for s in samples)
    p95 = ms[int(len(ms) * 0.95) - 1]
    print(
        f"{name}: {len(ms)} requests, mean {statistics.fmean(ms):.1f} ms, "
        f"p50 {statistics.median(ms):.1f} ms, p95 {p95:.1f} ms, max {ms[-1]:.1f} ms, "
        f"mean body {statistics.fmean(sizes) / 1024:.0f} KiB"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", default="large")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--pages", type=int, default=200)
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    org = Org(args.seed, args.size)
    org.warm_up()
    print(f"org {args.size}: {org.issue_count} issues, {org.pull_request_count} PRs, built in "
          f"{time.perf_counter() - t0:.2f} s")  # fmt: skip
    sim = JiraSimulator(org, DEMO_JIRA)
    keys = ", ".join(p.key for p in org.projects)
    with (
        SandboxServer({"jira": sim.handle}) as server,
        httpx.Client(
            base_url=server.base_urls["jira"],
            auth=(DEMO_JIRA.email, DEMO_JIRA.api_token),
            timeout=30,
        ) as client,
    ):
        for label, jql in (
            ("search/jql all projects, updated ASC", f"project in ({keys}) ORDER BY updated ASC"),
            (
                "search/jql one project, updated DESC",
                f"project = {org.projects[0].key} ORDER BY updated DESC",
            ),
        ):
            body = {"jql": jql, "fields": ["*all"], "expand": "changelog", "maxResults": 100}
            samples, sizes, token, count = [], [], None, 0
            for _ in range(args.pages):
                start = time.perf_counter()
                r = client.post("/rest/api/3/search/jql", json={**body, "nextPageToken": token})
                samples.append(time.perf_counter() - start)
                sizes.append(len(r.content))
                page = r.json()
                count += len(page["issues"])
                if page["isLast"]:
                    break
                token = page["nextPageToken"]
            _report(f"{label} ({count} issues, *all + changelog)", samples, sizes)
        samples, sizes = [], []
        for i in range(0, org.issue_count, max(1, org.issue_count // 200)):
            start = time.perf_counter()
            r = client.get(f"/rest/api/3/issue/{10001 + i}/changelog", params={"maxResults": 100})
            samples.append(time.perf_counter() - start)
            sizes.append(len(r.content))
        _report("issue changelog pages", samples, sizes)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
