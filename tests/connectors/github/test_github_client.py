"""The GitHub client against the simulator: paging, nested paging, cost, budget, limits."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.errors import AuthError, RateLimited
from connectors.github import GitHubClient, PageSizes, estimate, queries
from connectors.github.models import (
    Deployment,
    RestComment,
    RestCommit,
    RestPullRequest,
    RestReview,
    WorkflowRun,
)
from connectors.http import Secret
from connectors.sandbox.faults import FaultScenario, RateLimit
from connectors.sandbox.org import Org
from tests.connectors.fakes import FakeClock
from tests.connectors.github.helpers import client_for, simulator

FIXTURES = Path("/work/shared/fixtures/devlake")
TOKENS = ("ghp_first_token_aaaaaaaaaaaaaaaaaaaaaaaa", "ghp_second_token_bbbbbbbbbbbbbbbbbbbbbbb")


@pytest.fixture(scope="module")
def org() -> Org:
    return Org(7, "small")


def _rows(relative: str) -> list[dict[str, Any]]:
    csv.field_size_limit(1 << 30)
    with (FIXTURES / relative).open(encoding="utf-8") as fh:
        return [json.loads(row["data"]) for row in csv.DictReader(fh)]


@pytest.mark.parametrize(
    ("relative", "model"),
    [
        ("github/e2e/raw_tables/_raw_github_api_pull_requests.csv", RestPullRequest),
        ("github/e2e/raw_tables/_raw_github_api_pull_request_commits.csv", RestCommit),
        ("github/e2e/raw_tables/_raw_github_api_pull_request_reviews.csv", RestReview),
        ("github/e2e/raw_tables/_raw_github_api_comments.csv", RestComment),
        ("github/e2e/raw_tables/_raw_github_api_pull_request_review_comments.csv", RestComment),
        ("github/e2e/raw_tables/_raw_github_api_runs.csv", WorkflowRun),
        ("github_graphql/e2e/raw_tables/_raw_github_graphql_deployment.csv", Deployment),
    ],
)
def test_every_recorded_github_payload_parses(relative: str, model: Any) -> None:
    rows = _rows(relative)
    assert rows
    parsed = [model.model_validate(row) for row in rows]
    assert len(parsed) == len(rows)
    if model is Deployment:
        # DevLake re-serialised GraphQL through Go structs (PascalCase keys).
        assert all(d.commit_oid and d.latest_status and d.created_at.tzinfo for d in parsed)
        assert parsed[0].statuses is not None and parsed[0].statuses.nodes[0] is not None
        assert parsed[0].statuses.nodes[0].state == "SUCCESS"
    if model is RestPullRequest:
        assert all(p.head and p.base and p.created_at.tzinfo for p in parsed)


def test_cost_estimate_matches_what_github_charges(org: Org) -> None:
    clock = FakeClock()
    sim = simulator(org, clock)
    client = client_for(sim, clock)
    sizes = PageSizes()
    repo = org.repositories[0].full_name
    page = client.pull_request_page(repo, None, sizes)
    predicted = estimate(queries.PULL_REQUESTS_PAGE, sizes.pr_variables())
    assert page.cost == predicted.points == 5  # (1 + 50 * (4 + 5)) / 100
    deployments = client.deployment_page(repo, None, sizes)
    assert estimate(queries.DEPLOYMENTS_PAGE, {"first": 100, "statuses": 10}).points == 1
    assert len(deployments.items) == 100
    assert client.points_used == 6
    snap = client.budget()
    assert snap.remaining == 5000 - 6 and snap.limit == 5000


def test_pull_request_page_and_nested_paging_are_complete(org: Org) -> None:
    clock = FakeClock()
    client = client_for(simulator(org, clock), clock)
    repo = org.repositories[0]
    tiny = PageSizes(
        prs=7, commits=1, reviews=1, comments=1, threads=1, thread_comments=1, nested=2
    )
    seen: dict[int, Any] = {}
    cursor = None
    while True:
        page = client.pull_request_page(repo.full_name, cursor, tiny)
        for pr in page.items:
            assert client.complete_pull_request(pr, tiny) == []
            seen[pr.number] = pr
        if not page.has_next:
            break
        cursor = page.end_cursor
    indices = org.repository_pull_requests(repo.index)
    assert sorted(seen) == list(range(1, len(indices) + 1))
    for number, j in enumerate(indices, 1):
        truth = org.pull_request(j)
        got = seen[number]
        assert [c.commit.oid for c in got.commits.nodes if c] == [c.oid for c in truth.commits]
        assert [r.id for r in got.reviews.nodes if r] == [r.node_id for r in truth.reviews]
        issue = [c.id for c in got.comments.nodes if c]
        review = [c.id for t in got.review_threads.nodes if t for c in t.comments.nodes if c]
        assert sorted(issue + review) == sorted(c.node_id for c in truth.comments)


def test_tokens_are_used_in_turn_and_exhaustion_raises_rate_limited(org: Org) -> None:
    clock = FakeClock()
    sim = simulator(org, clock, tokens=TOKENS, points_per_hour=12)
    client = client_for(sim, clock, TOKENS, max_wait=60)
    repo = org.repositories[0].full_name
    sizes = PageSizes(prs=10)  # (1 + 10 * 9) / 100 -> 1 point
    for _ in range(4):
        client.pull_request_page(repo, None, sizes)
    used = [t.calls for t in client.pool.tokens]
    assert used == [2, 2]  # alternating
    # The simulator's budget is per process, not per token: spend it, then ask again.
    with pytest.raises(RateLimited) as info:
        for _ in range(20):
            client.pull_request_page(repo, None, sizes)
    assert info.value.reset_at is not None and info.value.reset_at > clock.now()
    assert "GitHub" in info.value.message or "github" in info.value.message


@pytest.mark.parametrize("error_type", ["RATE_LIMIT", "RATE_LIMITED"])
def test_primary_limit_in_body_waits_for_the_reset(org: Org, error_type: str) -> None:
    clock = FakeClock()
    sim = simulator(org, clock, points_per_hour=3, rate_limit_error_type=error_type)
    client = client_for(sim, clock, max_wait=3700)
    repo = org.repositories[0].full_name
    sizes = PageSizes(prs=10)
    for _ in range(5):
        client.pull_request_page(repo, None, sizes)
    waits = [s for s in clock.sleeps if s > 60]
    assert waits, "expected a wait for the hourly reset"
    assert client.counters().rate_limit_waits >= 1


def test_low_budget_shrinks_page_sizes(org: Org) -> None:
    clock = FakeClock()
    sim = simulator(org, clock, points_per_hour=7)
    client = client_for(sim, clock, max_wait=1)
    repo = org.repositories[0].full_name
    first = client.pull_request_page(repo, None, PageSizes())  # 5 points, 2 left
    assert len(first.items) == 47
    second = client.pull_request_page(repo, None, PageSizes())  # shrunk to fit 2 points
    assert 0 < len(second.items) < 47 and second.cost <= 2


def test_secondary_limit_with_retry_after_backs_off(org: Org) -> None:
    clock = FakeClock()
    scenario = FaultScenario(rate_limit=RateLimit(after_requests=2, window_seconds=60))
    sim = simulator(org, clock, faults=scenario, secondary_status=403)
    client = client_for(sim, clock, max_wait=120)
    repo = org.repositories[0].full_name
    for _ in range(4):
        client.pull_request_page(repo, None, PageSizes(prs=5))
    assert client.counters().by_status.get(403, 0) >= 1
    assert any(s > 0 for s in clock.sleeps)


def test_secondary_limit_too_long_raises_rate_limited_with_reset(org: Org) -> None:
    clock = FakeClock()
    scenario = FaultScenario(rate_limit=RateLimit(after_requests=1, window_seconds=600))
    sim = simulator(org, clock, faults=scenario, secondary_status=429)
    client = client_for(sim, clock, max_wait=30)
    repo = org.repositories[0].full_name
    client.pull_request_page(repo, None, PageSizes(prs=5))
    with pytest.raises(RateLimited) as info:
        client.pull_request_page(repo, None, PageSizes(prs=5))
    assert info.value.reset_at is not None and info.value.retry_after is not None


def test_secondary_limit_without_retry_after_waits_a_minute_doubling() -> None:
    clock = FakeClock()
    body = {
        "message": "You have exceeded a secondary rate limit. Please wait a few minutes "
        "before you try again.",
        "documentation_url": "https://docs.github.com/rest",
    }
    answers = [
        httpx.Response(403, json=body),
        httpx.Response(403, json=body),
        httpx.Response(
            200,
            json={
                "data": {
                    "rateLimit": {"cost": 1, "remaining": 4999, "resetAt": "2025-03-01T13:00:00Z"},
                    "viewer": {"login": "octocat", "name": None},
                }
            },
        ),
    ]
    client = GitHubClient.create(
        Secret("t"),
        transport=httpx.MockTransport(lambda r: answers.pop(0)),
        clock=clock,
    )
    from connectors.http import RateLimitPolicy

    client.https[0].config = type(client.https[0].config)(
        **{**client.https[0].config.__dict__, "rate_limit": RateLimitPolicy(max_wait_seconds=600)}
    )
    assert client.viewer().login == "octocat"
    assert clock.sleeps == [60.0, 120.0]


def test_bad_credentials_fail_the_connection_test_clearly(org: Org) -> None:
    clock = FakeClock()
    client = client_for(simulator(org, clock), clock, ("ghp_wrong",))
    check = client.test_connection()
    assert not check.ok and "401" in check.message and "ghp_wrong" not in check.message
    with pytest.raises(AuthError):
        client.viewer()


def test_enterprise_server_layout(org: Org) -> None:
    clock = FakeClock()
    sim = simulator(org, clock)
    client = client_for(sim, clock, base_url="https://ghe.example.com/api/v3")
    assert client.graphql_path == "/api/graphql" and client.rest_prefix == "/api/v3"
    assert client.test_connection().ok
    runs, _ = next(client.iter_workflow_runs(org.repositories[0].full_name))
    assert runs and all(r.head_sha for r in runs)
    explicit = client_for(sim, clock, base_url="https://ghe.example.com", enterprise=True)
    assert explicit.repository(org.repositories[1].full_name) is not None


def test_repository_discovery_calls(org: Org) -> None:
    clock = FakeClock()
    client = client_for(simulator(org, clock), clock)
    owner = org.clients[0].github_org
    listed = [
        r.name_with_owner for p in client.iter_organization_repositories(owner) for r in p.items
    ]
    expected = sorted(r.full_name for r in org.repositories if r.owner == owner)
    assert sorted(listed) == expected
    searched = [r.name_with_owner for r in client.search_repositories(f"org:{owner}")]
    assert sorted(searched) == expected
    assert client.repository("nobody/nothing") is None
