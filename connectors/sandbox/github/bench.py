"""Benchmark: one page of 50 pull requests with nested commits, reviews and comments.

``python -m connectors.sandbox.github.bench [--size large] [--pages 20]`` builds the org,
mounts the GitHub simulator on the socket server and walks repositories with the canonical
sync query (API_NOTES §2.1), printing the cold first page and warm ms/page, over HTTP and
in-process.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

import httpx

from connectors.sandbox.credentials import DEMO_GITHUB_TOKEN
from connectors.sandbox.github import GitHubSimulator
from connectors.sandbox.org import Org
from connectors.sandbox.server import SandboxServer

QUERY = """
query($owner: String!, $name: String!, $cursor: String) {
  rateLimit { cost remaining resetAt limit used nodeCount }
  repository(owner: $owner, name: $name) {
    pullRequests(first: 50, after: $cursor, orderBy: {field: UPDATED_AT, direction: DESC}) {
      pageInfo { hasNextPage endCursor } totalCount
      nodes { id number title state createdAt updatedAt mergedAt closedAt author { login }
        mergeCommit { oid } additions deletions changedFiles headRefName baseRefName
        commits(first: 100) { totalCount pageInfo { hasNextPage endCursor }
          nodes { commit { oid committedDate author { name email user { login } } } } }
        reviews(first: 50) { totalCount pageInfo { hasNextPage endCursor }
          nodes { id state submittedAt author { login } } }
        comments(first: 50) { totalCount pageInfo { hasNextPage endCursor }
          nodes { id createdAt author { login } } } } } } }
"""


def _walk(client: httpx.Client, org: Org, repo_index: int, pages: int) -> list[float]:
    repo = org.repositories[repo_index]
    cursor = None
    times = []
    for _ in range(pages):
        variables: dict[str, Any] = {"owner": repo.owner, "name": repo.name, "cursor": cursor}
        t0 = time.perf_counter()
        response = client.post("/graphql", json={"query": QUERY, "variables": variables})
        times.append((time.perf_counter() - t0) * 1000)
        conn = response.json()["data"]["repository"]["pullRequests"]
        if not conn["pageInfo"]["hasNextPage"]:
            break
        cursor = conn["pageInfo"]["endCursor"]
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", default="large")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--pages", type=int, default=20)
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    org = Org(args.seed, args.size)
    org.warm_up()
    built = time.perf_counter() - t0
    print(f"org {args.size}: {org.pull_request_count} PRs, built in {built:.1f}s")
    sim = GitHubSimulator(org, points_per_hour=10**9)
    headers = {"Authorization": f"bearer {DEMO_GITHUB_TOKEN}"}
    with (
        SandboxServer({"github": sim.handle}) as server,
        httpx.Client(base_url=server.base_urls["github"], headers=headers) as client,
    ):
        for label, repo_index in (("cold repo", 0), ("warm repo", 0), ("another repo", 1)):
            times = _walk(client, org, repo_index, args.pages)
            print(
                f"HTTP  {label:12s}: first page {times[0]:6.1f} ms, "
                f"median {statistics.median(times):6.1f} ms/page over {len(times)} pages"
            )
    transport = httpx.MockTransport(sim.handle)
    with httpx.Client(transport=transport, base_url="https://api.github.com", headers=headers) as c:
        times = _walk(c, org, 2, args.pages)
        times += _walk(c, org, 2, args.pages)
        print(f"in-process      : median {statistics.median(times):6.1f} ms/page")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
