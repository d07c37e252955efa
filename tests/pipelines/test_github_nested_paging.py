"""A pull request with 250 commits, 120 comments and 60 reviews syncs completely: every child
lands exactly once, and the client reached the ones past the first page through the nested
``node(id:)`` queries (counted per operation at the simulator)."""

from __future__ import annotations

import json
import math
import re
from collections import Counter

import httpx
from sqlalchemy import Engine

from connectors.github import PageSizes
from connectors.sandbox.github import GitHubSimulator
from connectors.sandbox.org import Org
from connectors.sandbox.pull_requests import Oversize
from tests.pipelines.github_support import add_github_integration, make_ctx, pipeline, snapshot

HUGE = 3  # a pull request index of Org(7, "tiny")
OPERATION = re.compile(r"\bquery\s+(\w+)")


def _extra_pages(total: int, first_page: int, page: int) -> int:
    """How many follow-up pages a connection of ``total`` needs after its first page."""
    return math.ceil(max(0, total - first_page) / page)


def test_a_huge_pull_request_is_paged_completely(tenant: Engine) -> None:
    org = Org(7, "tiny", oversize={HUGE: Oversize(commits=250, comments=120, reviews=60)})
    huge = org.pull_request(HUGE)
    repo = org.repositories[huge.repository]
    sim = GitHubSimulator(org, points_per_hour=1_000_000)
    operations: Counter[str] = Counter()

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/graphql"):
            m = OPERATION.search(json.loads(request.content)["query"])
            operations[m.group(1) if m else "anonymous"] += 1
        return sim.handle(request)

    integration = add_github_integration(tenant, {"repos": [repo.full_name], "deployments": "off"})
    result = pipeline(handle).run(make_ctx(tenant, integration))
    rows = snapshot(tenant)

    def children(table: str, column: int) -> list[object]:
        return [r[column] for r in rows[table] if r[0] == huge.node_id]

    commits = children("pr_commits", 1)
    assert len(commits) == 250 and set(commits) == {c.oid for c in huge.commits}
    comments = children("pr_comments", 1)
    assert len(comments) == 120 and set(comments) == {c.node_id for c in huge.comments}
    kinds = Counter(r[3] for r in rows["pr_comments"] if r[0] == huge.node_id)
    assert kinds == Counter(c.kind for c in huge.comments)
    reviews = children("pr_reviews", 1)
    assert len(reviews) == 60 and set(reviews) == {r.node_id for r in huge.reviews}

    # Exactly once, also on the way in: the loaded counts are the generator's for the repo.
    prs = [org.pull_request(j) for j in org.repository_pull_requests(repo.index)]
    assert result.stats["pull_requests"] == len(prs) == len(rows["pull_requests"])
    assert result.stats["commits"] == sum(len(p.commits) for p in prs) == len(rows["pr_commits"])
    assert result.stats["comments"] == sum(len(p.comments) for p in prs)
    assert result.stats["reviews"] == sum(len(p.reviews) for p in prs)
    assert rows["quarantined_payloads"] == []

    # Only the huge PR overflows its first pages; each connection needed these follow-ups.
    print(f"\nGraphQL requests by operation: {dict(sorted(operations.items()))}")
    sizes = PageSizes()
    issue, review = kinds["issue"], kinds["review"]
    assert operations["PullRequestsPage"] == math.ceil(len(prs) / sizes.prs)
    assert operations["PullRequestCommits"] == _extra_pages(250, sizes.commits, sizes.nested)
    assert operations["PullRequestReviews"] == _extra_pages(60, sizes.reviews, sizes.nested)
    assert operations["PullRequestComments"] == _extra_pages(issue, sizes.comments, sizes.nested)
    assert operations["PullRequestThreads"] == _extra_pages(review, sizes.threads, 25)
    assert operations["PullRequestCommits"] >= 2 and operations["PullRequestThreads"] >= 2
