"""REST: Link-header paging, deployment/status/run shapes against recorded GitHub payloads,
rate_limit, and the simulator mounted on the socket server."""

from __future__ import annotations

import re
from typing import Any

import httpx

from connectors.sandbox.credentials import DEMO_GITHUB_TOKEN
from connectors.sandbox.github import GitHubSimulator
from connectors.sandbox.org import Org
from connectors.sandbox.server import SandboxServer
from tests.sandbox.github.conftest import devlake_rows

LINK = re.compile(r'<([^>]+)>; rel="(\w+)"')


def _links(response: httpx.Response) -> dict[str, str]:
    return {rel: url for url, rel in LINK.findall(response.headers.get("link", ""))}


def test_deployments_follow_link_headers_exhaustively(gh: Any, small_org_readonly: Org) -> None:
    repo = small_org_readonly.repositories[1]
    url: str | None = f"/repos/{repo.full_name}/deployments?per_page=100"
    ids: list[int] = []
    pages = 0
    while url:
        response = gh.get(url)
        assert response.status_code == 200
        assert response.headers["x-ratelimit-resource"] == "core"
        ids += [d["id"] for d in response.json()]
        links = _links(response)
        if pages:
            assert "prev" in links and "first" in links
        url = links.get("next")
        pages += 1
    total = sum(
        small_org_readonly.deployment_slots(repo.index, env)
        for env in __import__("connectors.sandbox.deploy_schedule", fromlist=["x"]).Environment
    )
    assert len(ids) == len(set(ids)) == total and pages == -(-total // 100)
    capped = gh.get(f"/repos/{repo.full_name}/deployments?per_page=500")
    assert len(capped.json()) == 100


def test_deployment_and_status_shapes(gh: Any, small_org_readonly: Org) -> None:
    repo = small_org_readonly.repositories[0]
    deps = gh.get(
        f"/repos/{repo.full_name}/deployments", params={"environment": "production"}
    ).json()
    assert len(deps) == 30 and {d["environment"] for d in deps} == {"production"}
    created = [d["created_at"] for d in deps]
    assert created == sorted(created, reverse=True)
    d = deps[0]
    assert d["creator"]["login"] == "github-actions[bot]" and d["creator"]["type"] == "Bot"
    assert d["production_environment"] is True and len(d["sha"]) == 40
    statuses = gh.get(d["statuses_url"].replace("https://api.github.sandbox", "")).json()
    assert statuses[0]["state"] in {"success", "failure", "error", "inactive"}
    assert {s["state"] for s in statuses} <= {
        "success",
        "failure",
        "error",
        "inactive",
        "in_progress",
    }
    assert statuses[-1]["state"] == "in_progress"
    assert gh.get(f"/repos/{repo.full_name}/deployments/1/statuses").status_code == 404
    assert gh.get("/repos/nobody/nothing/deployments").json()["message"] == "Not Found"


def test_workflow_runs_have_the_recorded_shape(gh: Any, small_org_readonly: Org) -> None:
    real = devlake_rows("github/e2e/raw_tables/_raw_github_api_runs.csv")
    repo = small_org_readonly.repositories[0]
    body = gh.get(f"/repos/{repo.full_name}/actions/runs", params={"per_page": 5}).json()
    run = body["workflow_runs"][0]
    assert body["total_count"] > 5
    assert set(real[0]) <= set(run)
    assert set(real[0]["head_commit"]) == set(run["head_commit"])
    assert set(real[0]["actor"]) <= set(run["actor"]) | {"user_view_type"}
    assert run["conclusion"] in {r["conclusion"] for r in real if r["conclusion"]}
    failures = gh.get(f"/repos/{repo.full_name}/actions/runs", params={"status": "failure"}).json()
    assert failures["workflow_runs"] and all(
        r["conclusion"] == "failure" for r in failures["workflow_runs"]
    )


def test_user_objects_match_recorded_github(gh: Any, small_org_readonly: Org) -> None:
    real = devlake_rows("github/e2e/raw_tables/_raw_github_api_pull_request_reviews.csv")[0]["user"]
    repo = small_org_readonly.repositories[0]
    ours = gh.get(f"/repos/{repo.full_name}/deployments", params={"per_page": 1}).json()[0]
    assert set(real) <= set(ours["creator"])


def test_rate_limit_and_search(gh_sim: GitHubSimulator, small_org_readonly: Org) -> None:
    from tests.sandbox.github.conftest import gh_client

    with gh_client(gh_sim) as gh:
        before = gh.get("/rate_limit").json()
        assert set(before["resources"]) >= {"core", "search", "graphql"}
        assert gh.get("/rate_limit").json()["resources"]["core"] == before["resources"]["core"]
        org = small_org_readonly.clients[0].github_org
        found = gh.get("/search/repositories", params={"q": f"org:{org}", "per_page": 1})
        assert found.headers["x-ratelimit-resource"] == "search"
        assert (found.json()["total_count"] >= 1 and "next" in _links(found)) or found.json()[
            "total_count"
        ] == 1
        assert gh.get("/search/repositories").status_code == 422


def test_mounted_on_the_socket_server_like_api_github_com_and_ghes(small_org_readonly: Org) -> None:
    sim = GitHubSimulator(small_org_readonly)
    with SandboxServer({"github": sim.handle}) as server:
        base = server.base_urls["github"]
        headers = {"Authorization": f"bearer {DEMO_GITHUB_TOKEN}"}
        with httpx.Client(base_url=base, headers=headers) as client:
            ok = client.post("/graphql", json={"query": "{ viewer { login } }"})
            assert ok.json() == {"data": {"viewer": {"login": "pulse-sandbox"}}}
            ghes = client.post("/api/graphql", json={"query": "{ viewer { login } }"})
            assert ghes.json() == ok.json()
            repo = small_org_readonly.repositories[0]
            page = client.get(f"/api/v3/repos/{repo.full_name}/deployments?per_page=2")
            nxt = _links(page)["next"]
            assert nxt.startswith(f"{base}/api/v3/repos/") and "page=2" in nxt
            assert client.get(nxt).status_code == 200
            assert page.json()[0]["url"].startswith(f"{base}/api/v3/repos/")
