from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.sandbox.credentials import DEMO_GITHUB_TOKEN
from connectors.sandbox.github import GitHubSimulator
from connectors.sandbox.org import Org

FIXTURES = Path("/work/shared/fixtures")
FIXED_NOW = 1_800_000_000.0


def gh_client(sim: GitHubSimulator, token: str = DEMO_GITHUB_TOKEN) -> httpx.Client:
    return httpx.Client(
        transport=httpx.MockTransport(sim.handle),
        base_url="https://api.github.sandbox",
        headers={"Authorization": f"bearer {token}"},
    )


def gql(client: httpx.Client, query: str, **variables: Any) -> dict[str, Any]:
    response = client.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture(scope="session")
def gh_sim(small_org_readonly: Org) -> GitHubSimulator:
    return GitHubSimulator(small_org_readonly, points_per_hour=1_000_000, clock=lambda: FIXED_NOW)


@pytest.fixture
def gh(gh_sim: GitHubSimulator) -> Iterator[httpx.Client]:
    with gh_client(gh_sim) as client:
        yield client


def devlake_rows(relative: str) -> list[dict[str, Any]]:
    csv.field_size_limit(1 << 30)
    with (FIXTURES / "devlake" / relative).open(encoding="utf-8") as fh:
        return [json.loads(row["data"]) for row in csv.DictReader(fh)]


PR_PAGE = """
query($owner: String!, $name: String!, $cursor: String, $dir: OrderDirection!, $size: Int!) {
  rateLimit { cost limit remaining resetAt used nodeCount }
  repository(owner: $owner, name: $name) {
    pullRequests(first: $size, after: $cursor, orderBy: {field: UPDATED_AT, direction: $dir}) {
      totalCount
      pageInfo { hasNextPage endCursor }
      nodes {
        id number title state createdAt updatedAt mergedAt closedAt isDraft
        author { login } mergeCommit { oid } additions deletions changedFiles
        headRefName baseRefName
        commits(first: 100) { totalCount pageInfo { hasNextPage endCursor }
          nodes { commit { oid committedDate authoredDate message
                           author { name email user { login } } } } }
        reviews(first: 50) { totalCount pageInfo { hasNextPage endCursor }
          nodes { id state submittedAt author { login } } }
        comments(first: 50) { totalCount pageInfo { hasNextPage endCursor }
          nodes { id createdAt author { login } } }
      }
    }
  }
}
"""
