# ruff: noqa: E501  (GraphQL queries read best on one line)
"""GraphQL: schema fidelity, shapes, validation and GitHub's limit errors, paging."""

from __future__ import annotations

import re
from typing import Any

import pytest
from graphql import parse, print_ast

from connectors.sandbox.faults import FaultScenario
from connectors.sandbox.github import GitHubSimulator
from connectors.sandbox.github.resolvers import SCHEMA_PATH
from connectors.sandbox.mutations import MutationPlan
from connectors.sandbox.org import Org
from tests.sandbox.github.conftest import FIXED_NOW, FIXTURES, PR_PAGE, gh_client, gql

GITHUB_TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def _repo(org: Org, index: int = 0) -> dict[str, str]:
    r = org.repositories[index]
    return {"owner": r.owner, "name": r.name}


def test_schema_subset_is_verbatim_from_githubs_public_schema() -> None:
    def fields(text: str) -> dict[tuple[str, str], str]:
        out = {}
        for d in parse(text, no_location=True).definitions:
            for f in getattr(d, "fields", None) or ():
                args = ",".join(print_ast(a) for a in getattr(f, "arguments", None) or ())
                out[(d.name.value, f.name.value)] = f"{print_ast(f.type)}({args})"  # type: ignore[attr-defined]
        return out

    full = fields((FIXTURES / "github/schema.graphql").read_text(encoding="utf-8"))
    subset = fields(SCHEMA_PATH.read_text(encoding="utf-8"))
    assert len(subset) > 300
    strip = re.compile(r'"""[\s\S]*?"""|"[^"\n]*"\s|@requiredCapabilities\([^)]*\)')
    for key, signature in subset.items():
        assert strip.sub("", signature) == strip.sub("", full[key]), key


def test_canonical_pull_request_page(gh: Any, small_org_readonly: Org) -> None:
    body = gql(gh, PR_PAGE, **_repo(small_org_readonly), dir="DESC", size=50, cursor=None)
    assert "errors" not in body
    conn = body["data"]["repository"]["pullRequests"]
    nodes = conn["nodes"]
    assert conn["totalCount"] == len(small_org_readonly.repository_pull_requests(0))
    updated = [n["updatedAt"] for n in nodes]
    assert updated == sorted(updated, reverse=True)
    for n in nodes:
        assert n["state"] in {"OPEN", "CLOSED", "MERGED"}
        assert GITHUB_TS.match(n["createdAt"]) and GITHUB_TS.match(n["updatedAt"])
        assert (
            (n["mergedAt"] is not None)
            == (n["state"] == "MERGED")
            == (n["mergeCommit"] is not None)
        )
        assert n["commits"]["totalCount"] == len(n["commits"]["nodes"]) >= 1
        assert all(re.fullmatch(r"[0-9a-f]{40}", c["commit"]["oid"]) for c in n["commits"]["nodes"])
        assert {r["state"] for r in n["reviews"]["nodes"]} <= {
            "APPROVED", "CHANGES_REQUESTED", "COMMENTED", "DISMISSED", "PENDING"
        }  # fmt: skip
        assert n["id"].startswith("PR_")
    rl = body["data"]["rateLimit"]
    # 1 request for pullRequests + 50 each for commits/reviews/comments = 151 -> 2 points
    assert rl["cost"] == 2 and rl["nodeCount"] == 50 + 50 * 100 + 50 * 50 + 50 * 50
    bots = [n for n in nodes if n["title"].startswith("Bump ")]
    assert all(not n["author"]["login"].endswith("[bot]") for n in bots)  # GraphQL drops [bot]


def test_review_states_and_timestamps_match_recorded_github(
    gh: Any, small_org_readonly: Org
) -> None:
    from tests.sandbox.github.conftest import devlake_rows

    real_reviews = devlake_rows("github/e2e/raw_tables/_raw_github_api_pull_request_reviews.csv")
    real_states = {r["state"] for r in real_reviews}
    body = gql(gh, PR_PAGE, **_repo(small_org_readonly), dir="ASC", size=50, cursor=None)
    ours = {
        r["state"]
        for n in body["data"]["repository"]["pullRequests"]["nodes"]
        for r in n["reviews"]["nodes"]
    }
    review_states = {"APPROVED", "CHANGES_REQUESTED", "COMMENTED", "DISMISSED"}
    assert real_states <= review_states and ours <= review_states and "APPROVED" in ours
    real_prs = devlake_rows("github/e2e/raw_tables/_raw_github_api_pull_requests.csv")
    assert all(GITHUB_TS.match(p["created_at"]) for p in real_prs)  # same DateTime format
    real_commits = devlake_rows("github/e2e/raw_tables/_raw_github_api_pull_request_commits.csv")
    assert all(len(c["sha"]) == 40 for c in real_commits)


def test_deployments_match_devlakes_recorded_graphql_query(
    gh: Any, small_org_readonly: Org
) -> None:
    """DevLake's own deployments query (recorded in the fixture's ``url`` column) runs as is,
    and each node has the keys and value kinds GitHub returned to it."""
    import csv

    csv.field_size_limit(1 << 30)
    path = FIXTURES / "devlake/github_graphql/e2e/raw_tables/_raw_github_graphql_deployment.csv"
    with path.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    query = rows[0]["url"]
    import json

    real = [json.loads(r["data"]) for r in rows]
    body = gql(gh, query, **_repo(small_org_readonly), pageSize=100, skipCursor=None)
    assert "errors" not in body, body
    conn = body["data"]["repository"]["deployments"]
    assert conn["pageInfo"]["hasNextPage"] and len(conn["nodes"]) == 100
    node = conn["nodes"][0]
    assert {k.lower() for k in node} == {k.lower() for k in real[0]}
    created = [n["createdAt"] for n in conn["nodes"]]
    assert created == sorted(created, reverse=True)
    states = {"ACTIVE", "INACTIVE", "FAILURE", "ERROR", "IN_PROGRESS", "QUEUED", "PENDING"}
    assert {n["state"] for n in conn["nodes"]} <= states
    assert {r["State"] for r in real} <= states | {"SUCCESS"}
    for n in conn["nodes"]:
        statuses = n["statuses"]["nodes"]
        times = [s["updatedAt"] for s in statuses]
        assert times == sorted(times, reverse=True)  # newest first, as in the capture
        assert n["latestStatus"]["state"] == statuses[0]["state"]
        assert n["ref"]["prefix"] == "refs/heads/" and n["commit"]["oid"] == n["commitOid"]
    assert "ACTIVE" in {n["state"] for n in conn["nodes"]}


def test_nested_connections_page_through_node(gh: Any, small_org_readonly: Org) -> None:
    org = small_org_readonly
    pr = max(
        (org.pull_request(j) for j in range(org.pull_request_count)), key=lambda p: len(p.commits)
    )
    q = """query($id: ID!, $c: String) { node(id: $id) { ... on PullRequest {
        number commits(first: 2, after: $c) { totalCount pageInfo { hasNextPage endCursor }
        nodes { commit { oid } } } } } }"""
    seen: list[str] = []
    cursor = None
    while True:
        conn = gql(gh, q, id=pr.node_id, c=cursor)["data"]["node"]["commits"]
        seen += [n["commit"]["oid"] for n in conn["nodes"]]
        if not conn["pageInfo"]["hasNextPage"]:
            break
        cursor = conn["pageInfo"]["endCursor"]
    assert seen == [c.oid for c in pr.commits]
    missing = gql(gh, '{ node(id: "PR_nope") { id } }')
    assert missing["data"]["node"] is None and missing["errors"][0]["type"] == "NOT_FOUND"


def _walk(
    client: Any, org: Org, direction: str, size: int, between: Any = None
) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    cursor = None
    pages = 0
    while True:
        body = gql(client, PR_PAGE, **_repo(org), dir=direction, size=size, cursor=cursor)
        conn = body["data"]["repository"]["pullRequests"]
        seen += conn["nodes"]
        pages += 1
        if between is not None and pages == 2:
            between()
        if not conn["pageInfo"]["hasNextPage"]:
            return seen
        cursor = conn["pageInfo"]["endCursor"]


@pytest.mark.parametrize("direction", ["ASC", "DESC"])
def test_paging_is_exhaustive(gh: Any, small_org_readonly: Org, direction: str) -> None:
    seen = _walk(gh, small_org_readonly, direction, 7)
    numbers = [n["number"] for n in seen]
    assert sorted(numbers) == list(
        range(1, len(small_org_readonly.repository_pull_requests(0)) + 1)
    )


def test_paging_stays_stable_while_prs_are_force_pushed() -> None:
    """Keyset cursors: with ASC order a walk during which PRs are updated still returns every
    PR; an updated PR that was already returned comes back once more with its new state."""
    org = Org(7, "small")
    sim = GitHubSimulator(org, points_per_hour=10**6, clock=lambda: FIXED_NOW)
    before = {
        org.pull_request(j).number: org.pull_request(j).head_oid
        for j in org.repository_pull_requests(0)
    }
    reports = []
    with gh_client(sim) as client:
        seen = _walk(
            client, org, "ASC", 5, lambda: reports.append(org.apply(MutationPlan(force_push=80)))
        )
    pushed = {
        int(p.split("#")[1])
        for p in reports[0].force_pushed
        if p.startswith(org.repositories[0].full_name + "#")
    }
    assert pushed, "the mutation should touch this repository"
    numbers = [n["number"] for n in seen]
    assert set(numbers) == set(before)  # nobody missed
    dupes = {n for n in numbers if numbers.count(n) > 1}
    assert dupes <= pushed  # only updated PRs come back
    last_seen = {n["number"]: n for n in seen}
    for number in pushed:
        head = last_seen[number]["commits"]["nodes"][-1]["commit"]["oid"]
        assert head != before[number]  # a force-push rewrote the commits


def test_missing_and_excessive_first(gh: Any, small_org_readonly: Org) -> None:
    missing = gql(
        gh,
        "query($owner:String!,$name:String!){ repository(owner:$owner,name:$name){ pullRequests { nodes { id } } } }",
        **_repo(small_org_readonly),
    )
    err = missing["errors"][0]
    assert err["type"] == "MISSING_PAGINATION_BOUNDARIES"
    assert err["path"] == ["repository", "pullRequests"]
    assert err["message"] == (
        "You must provide a `first` or `last` value to properly paginate the `pullRequests` "
        "connection."
    )
    count_only = gql(
        gh,
        "query($owner:String!,$name:String!){ repository(owner:$owner,name:$name){ pullRequests { totalCount } } }",
        **_repo(small_org_readonly),
    )
    assert "errors" not in count_only
    too_many = gql(
        gh,
        "query($owner:String!,$name:String!){ repository(owner:$owner,name:$name){ pullRequests(first: 101) { nodes { id } } } }",
        **_repo(small_org_readonly),
    )
    assert too_many["errors"][0]["type"] == "EXCESSIVE_PAGINATION"
    assert too_many["errors"][0]["message"] == (
        "Requesting 101 records on the `pullRequests` connection exceeds the `first` limit of "
        "100 records."
    )
    bad_cursor = gql(
        gh,
        'query($owner:String!,$name:String!){ repository(owner:$owner,name:$name){ pullRequests(first: 1, after: "zzz") { nodes { id } } } }',
        **_repo(small_org_readonly),
    )
    assert bad_cursor["errors"][0]["type"] == "INVALID_CURSOR_ARGUMENTS"


def test_node_limit(gh: Any) -> None:
    q = """{ search(query: "org:x", type: REPOSITORY, first: 100) { nodes { ... on Repository {
      pullRequests(first: 100) { nodes { commits(first: 100) { nodes { id } } } } } } } }"""
    body = gql(gh, q)
    assert "data" not in body
    assert body["errors"][0]["type"] == "MAX_NODE_LIMIT_EXCEEDED"
    assert body["errors"][0]["message"] == (
        "By the time this query traverses to the commits connection, it is requesting up to "
        "1,010,100 possible nodes which exceeds the maximum limit of 500,000."
    )


def test_malformed_queries_get_graphql_errors(gh: Any) -> None:
    unknown = gql(gh, '{ repository(owner: "a", name: "b") { nope } }')
    assert "data" not in unknown
    assert unknown["errors"][0]["message"] == "Field 'nope' doesn't exist on type 'Repository'"
    assert unknown["errors"][0]["extensions"]["code"] == "undefinedField"
    arg = gql(gh, '{ repository(owner: "a") { id } }')
    assert arg["errors"][0]["message"] == "Field 'repository' is missing required arguments: name"
    syntax = gql(gh, "{ repository(owner: ")
    assert syntax["errors"][0]["message"].startswith("Syntax Error")
    wrong_enum = gql(
        gh,
        '{ repository(owner: "a", name: "b") { pullRequests(first: 1, orderBy: {field: NAME, direction: ASC}) { totalCount } } }',
    )
    assert "errors" in wrong_enum and "data" not in wrong_enum
    not_json = gh.post("/graphql", content=b"{nope")
    assert not_json.status_code == 400 and not_json.json()["message"] == "Problems parsing JSON"


def test_rate_limit_cost_headers_and_exhaustion(small_org_readonly: Org) -> None:
    sim = GitHubSimulator(small_org_readonly, points_per_hour=5, clock=lambda: FIXED_NOW)
    with gh_client(sim) as client:
        first = client.post(
            "/graphql",
            json={
                "query": PR_PAGE,
                "variables": {
                    **_repo(small_org_readonly),
                    "dir": "ASC",
                    "size": 50,
                    "cursor": None,
                },
            },
        )
        assert first.json()["data"]["rateLimit"]["cost"] == 2
        h = first.headers
        assert (h["x-ratelimit-limit"], h["x-ratelimit-remaining"], h["x-ratelimit-used"]) == (
            "5",
            "3",
            "2",
        )
        assert h["x-ratelimit-resource"] == "graphql" and int(h["x-ratelimit-reset"]) > FIXED_NOW
        cheap = gql(client, "{ viewer { login } rateLimit { cost remaining } }")
        assert cheap["data"]["rateLimit"] == {"cost": 1, "remaining": 2}
        gql(client, "{ viewer { login } }")
        gql(client, "{ viewer { login } }")
        refused = client.post("/graphql", json={"query": "{ viewer { login } }"})
        assert refused.status_code == 200 and refused.headers["x-ratelimit-remaining"] == "0"
        err = refused.json()["errors"][0]
        assert err["type"] == "RATE_LIMIT" and err["code"] == "graphql_rate_limit"
        assert err["message"].startswith("API rate limit already exceeded for user ID ")
    legacy = GitHubSimulator(
        small_org_readonly, points_per_hour=0, rate_limit_error_type="RATE_LIMITED"
    )
    with gh_client(legacy) as client:
        assert gql(client, "{ viewer { login } }")["errors"][0]["type"] == "RATE_LIMITED"


def test_secondary_limit_from_scenario(small_org_readonly: Org) -> None:
    scenario = FaultScenario.model_validate(
        {"rate_limit": {"after_requests": 2, "window_seconds": 60}}
    )
    sim = GitHubSimulator(small_org_readonly, scenario, secondary_status=429)
    with gh_client(sim) as client:
        for _ in range(2):
            assert (
                client.post("/graphql", json={"query": "{ viewer { login } }"}).status_code == 200
            )
        limited = client.post("/graphql", json={"query": "{ viewer { login } }"})
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
    body = limited.json()
    assert body["message"].startswith("You have exceeded a secondary rate limit.")
    assert body["documentation_url"].endswith("#about-secondary-rate-limits")
    assert sim.faults.counters.rate_limited == 1


def test_secondary_limit_window_runs_on_the_injected_clock(small_org_readonly: Org) -> None:
    """The scenario's window ends when the simulator's clock says so, not the wall clock's."""
    now = [FIXED_NOW]
    scenario = FaultScenario.model_validate(
        {"rate_limit": {"after_requests": 1, "window_seconds": 3600}}
    )
    sim = GitHubSimulator(small_org_readonly, scenario, clock=lambda: now[0])
    viewer = {"query": "{ viewer { login } }"}
    with gh_client(sim) as client:
        assert client.post("/graphql", json=viewer).status_code == 200
        limited = client.post("/graphql", json=viewer)
        assert limited.status_code == 403
        assert 3500 <= int(limited.headers["retry-after"]) <= 3600
        now[0] += 3601
        assert client.post("/graphql", json=viewer).status_code == 200
    assert sim.faults.counters.rate_limited == 1


def test_pull_request_url_and_permalink(gh: Any, small_org_readonly: Org) -> None:
    repo = small_org_readonly.repositories[0]
    body = gql(
        gh,
        """query($owner: String!, $name: String!) { repository(owner: $owner, name: $name) {
             url pullRequests(first: 3) { nodes { number url permalink resourcePath } } } }""",
        **_repo(small_org_readonly),
    )
    assert "errors" not in body, body
    data = body["data"]["repository"]
    assert data["url"] == f"https://github.com/{repo.full_name}"
    for pr in data["pullRequests"]["nodes"]:
        assert pr["url"] == pr["permalink"] == f"{data['url']}/pull/{pr['number']}"
        assert pr["resourcePath"] == f"/{repo.full_name}/pull/{pr['number']}"


def test_auth(small_org_readonly: Org, gh_sim: GitHubSimulator) -> None:
    with gh_client(gh_sim, token="ghp_wrong") as client:
        bad = client.post("/graphql", json={"query": "{ viewer { login } }"})
        rest = client.get("/rate_limit")
    assert bad.status_code == 401
    assert bad.json() == {
        "message": "Bad credentials",
        "documentation_url": "https://docs.github.com/graphql",
        "status": "401",
    }
    assert rest.status_code == 401 and rest.json()["message"] == "Bad credentials"
    with gh_client(gh_sim) as client:
        ok = client.post(
            "/graphql",
            json={"query": "{ viewer { login } }"},
            headers={"Authorization": "token " + gh_sim.tokens[0]},
        )
        assert ok.json()["data"]["viewer"]["login"] == "pulse-sandbox"
        anonymous = client.post(
            "/graphql", json={"query": "{ viewer { login } }"}, headers={"Authorization": ""}
        )
        assert anonymous.status_code == 401


def test_organization_and_search(gh: Any, small_org_readonly: Org) -> None:
    login = small_org_readonly.clients[0].github_org
    q = """query($login: String!, $c: String) { organization(login: $login) {
        repositories(first: 1, after: $c) { totalCount pageInfo { hasNextPage endCursor } nodes { nameWithOwner } } } }"""
    names, cursor = [], None
    while True:
        conn = gql(gh, q, login=login, c=cursor)["data"]["organization"]["repositories"]
        names += [n["nameWithOwner"] for n in conn["nodes"]]
        if not conn["pageInfo"]["hasNextPage"]:
            break
        cursor = conn["pageInfo"]["endCursor"]
    expected = sorted(r.full_name for r in small_org_readonly.repositories if r.owner == login)
    assert sorted(names) == expected
    s = gql(
        gh,
        "query($q: String!) { search(query: $q, type: REPOSITORY, first: 50) { repositoryCount nodes { ... on Repository { nameWithOwner } } } }",
        q=f"org:{login}",
    )
    assert s["data"]["search"]["repositoryCount"] == len(expected)
    assert sorted(n["nameWithOwner"] for n in s["data"]["search"]["nodes"]) == expected
    gone = gql(gh, '{ organization(login: "nobody-here") { login } }')
    assert gone["data"]["organization"] is None and gone["errors"][0]["type"] == "NOT_FOUND"


def test_same_seed_same_bytes(small_org_readonly: Org) -> None:
    def run() -> list[bytes]:
        org = Org(11, "tiny")
        sim = GitHubSimulator(org, clock=lambda: FIXED_NOW)
        with gh_client(sim) as client:
            out = []
            for r in org.repositories:
                v = {"owner": r.owner, "name": r.name, "dir": "DESC", "size": 20, "cursor": None}
                out.append(client.post("/graphql", json={"query": PR_PAGE, "variables": v}).content)
                out.append(client.get(f"/repos/{r.full_name}/deployments?per_page=5").content)
            return out

    assert run() == run()
