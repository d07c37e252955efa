"""The Azure DevOps simulator behaves like the service where our sync depends on it: the
WIQL 20,000 limit, workitemsbatch's 200, the revision feed's continuation, PAT answers and
TSTU throttling."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest

from connectors.sandbox.azure_devops import AdoOrg, AzureDevOpsSimulator, TstuPolicy
from connectors.sandbox.azure_devops.render import ado_time

PAT = "pat-for-tests"
BASE = "http://ado.test/sandbox"


def _client(sim: AzureDevOpsSimulator, pat: str = PAT) -> httpx.Client:
    auth = base64.b64encode(f":{pat}".encode()).decode()
    return httpx.Client(
        transport=httpx.MockTransport(sim.handle),
        headers={"Authorization": f"Basic {auth}"},
        params={"api-version": "7.1"},
    )


def _wiql(client: httpx.Client, query: str, project: str = "Fabrikam Fiber") -> httpx.Response:
    return client.post(f"{BASE}/{project}/_apis/wit/wiql", json={"query": query})


@pytest.fixture(scope="module")
def big() -> AdoOrg:
    return AdoOrg(7, "tiny", work_items=20_001, pull_requests=2, projects=1)


def test_wiql_over_20000_ids_is_refused_with_vs402337(big: AdoOrg) -> None:
    with _client(AzureDevOpsSimulator(big, PAT)) as client:
        refused = _wiql(client, "SELECT [System.Id] FROM WorkItems")
        assert refused.status_code == 400
        assert refused.json()["message"].startswith("VS402337: The number of work items")
        newest = max(w.head.changed_ms for w in big.items.values())
        fits = _wiql(
            client,
            f"SELECT [System.Id] FROM WorkItems WHERE [System.ChangedDate] < '{ado_time(newest)}'",
        )
        assert fits.status_code == 200 and len(fits.json()["workItems"]) == 20_000
        top = client.post(
            f"{BASE}/Fabrikam Fiber/_apis/wit/wiql",
            params={"$top": 5, "api-version": "7.1"},
            json={"query": "SELECT [System.Id] FROM WorkItems"},
        )
        assert len(top.json()["workItems"]) == 5  # $top truncates instead of failing


def test_workitemsbatch_takes_at_most_200_ids_and_omits_missing_ones() -> None:
    org = AdoOrg(7, "tiny", work_items=30, pull_requests=2)
    org.delete(3)
    with _client(AzureDevOpsSimulator(org, PAT)) as client:
        url = f"{BASE}/_apis/wit/workitemsbatch"
        assert client.post(url, json={"ids": list(range(1, 202))}).status_code == 400
        body = client.post(url, json={"ids": [1, 3, 999], "errorPolicy": "Omit"}).json()
        assert [v and v["id"] for v in body["value"]] == [1, None, None]


def test_the_revision_feed_pages_every_revision_once_and_continues_after_changes() -> None:
    org = AdoOrg(7, "tiny", work_items=50, pull_requests=2)
    seen: list[tuple[int, int]] = []
    token = ""
    with _client(AzureDevOpsSimulator(org, PAT)) as client:
        while True:
            page: dict[str, Any] = client.get(
                f"{BASE}/_apis/wit/reporting/workitemrevisions",
                params={"continuationToken": token, "$maxPageSize": 17, "api-version": "7.1"},
            ).json()
            seen += [(v["id"], v["rev"]) for v in page["values"]]
            token = httpx.URL(page["nextLink"]).params["continuationToken"]
            if page["isLastBatch"]:
                break
        assert sorted(seen) == sorted(
            (w.id, r.rev) for w in org.items.values() for r in w.revisions
        )
        assert len(seen) == len(set(seen))
        changed = org.update(2)
        more = client.get(
            f"{BASE}/_apis/wit/reporting/workitemrevisions",
            params={"continuationToken": token, "api-version": "7.1"},
        ).json()
        assert sorted(v["id"] for v in more["values"]) == sorted(changed)


def test_a_wrong_pat_gets_the_sign_in_page_and_none_gets_401() -> None:
    sim = AzureDevOpsSimulator(AdoOrg(7, "tiny", work_items=5, pull_requests=1), PAT)
    with _client(sim, "wrong") as client:
        answer = client.get(f"{BASE}/_apis/projects")
        assert answer.status_code == 203 and "text/html" in answer.headers["content-type"]
    bare = httpx.Client(transport=httpx.MockTransport(sim.handle))
    assert bare.get(f"{BASE}/_apis/projects", params={"api-version": "7.1"}).status_code == 401


def test_tstu_throttling_delays_then_blocks_with_tf400733() -> None:
    org = AdoOrg(7, "tiny", work_items=5, pull_requests=1)
    policy = TstuPolicy(limit=3, block_at=6, window_seconds=60, delay_seconds=0)
    with _client(AzureDevOpsSimulator(org, PAT, throttle=policy)) as client:
        answers = [client.get(f"{BASE}/_apis/projects") for _ in range(8)]
    assert [a.status_code for a in answers[:3]] == [200] * 3
    assert "X-RateLimit-Delay" not in answers[0].headers
    delayed = answers[3]
    assert delayed.status_code == 200 and delayed.headers["X-RateLimit-Remaining"] == "0"
    for name in ("X-RateLimit-Resource", "X-RateLimit-Limit", "X-RateLimit-Reset"):
        assert delayed.headers.get(name), name
    blocked = answers[-1]
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) > 0
    assert blocked.json()["message"].startswith("TF400733")


def test_preview_resources_need_the_preview_flag() -> None:
    sim = AzureDevOpsSimulator(AdoOrg(7, "tiny", work_items=5, pull_requests=1), PAT)
    url = f"{BASE}/Contoso Web/_apis/distributedtask/environments"
    with _client(sim) as client:
        refused = client.get(url)
        assert refused.status_code == 400 and "-preview" in refused.json()["message"]
        ok = client.get(url, params={"api-version": "7.1-preview.1"})
        assert ok.status_code == 200 and ok.json()["value"]
