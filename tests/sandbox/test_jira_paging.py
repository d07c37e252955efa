"""search/jql paging: exhaustive, exactly once, stable while the org changes mid-walk."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from connectors.sandbox.credentials import DEMO_JIRA
from connectors.sandbox.jira import JiraSimulator
from connectors.sandbox.mutations import MutationPlan
from connectors.sandbox.org import Org
from tests.sandbox.conftest import jira_client


def walk(client: httpx.Client, body: dict[str, Any], between: Any = None) -> list[dict[str, Any]]:
    issues: list[dict[str, Any]] = []
    token = None
    while True:
        page = client.post("/rest/api/3/search/jql", json={**body, "nextPageToken": token}).json()
        issues += page["issues"]
        if page["isLast"]:
            assert "nextPageToken" not in page
            return issues
        token = page["nextPageToken"]
        if between:
            between()


@pytest.mark.parametrize(
    "order", ["updated ASC", "updated DESC", "key ASC", "key DESC", "created DESC"]
)
def test_walk_is_exhaustive_and_ordered(order: str) -> None:
    org = Org(11, "small")
    with jira_client(JiraSimulator(org, DEMO_JIRA)) as client:
        keys = ", ".join(p.key for p in org.projects)
        got = walk(
            client,
            {
                "jql": f"project in ({keys}) ORDER BY {order}",
                "maxResults": 37,
                "fields": ["updated"],
            },
        )
    ids = [i["id"] for i in got]
    assert len(ids) == len(set(ids)) == org.issue_count
    if order.startswith("updated"):
        stamps = [i["fields"]["updated"] for i in got]
        assert stamps == sorted(stamps, reverse=order.endswith("DESC"))


def test_walk_stays_exactly_once_while_issues_change() -> None:
    org = Org(12, "small")
    with jira_client(JiraSimulator(org, DEMO_JIRA)) as client:
        keys = ", ".join(p.key for p in org.projects)
        body = {
            "jql": f"project in ({keys}) ORDER BY updated ASC",
            "maxResults": 50,
            "fields": ["updated"],
        }
        expected = {str(10001 + i) for i in range(org.issue_count)}
        reports = []
        got = walk(
            client,
            body,
            lambda: reports.append(org.apply(MutationPlan(update=5, move=1, delete=1, create=2))),
        )
        ids = [i["id"] for i in got]
        deleted_ids = {str(10001 + (org.index_of(k) or 0)) for r in reports for k in r.deleted}
        assert len(ids) == len(set(ids))
        # Pinned to the first page's snapshot: nothing created later shows up, updated and moved
        # issues appear once; an issue deleted mid-walk appears only if its page came first.
        assert expected - deleted_ids <= set(ids) <= expected
        # The next incremental sync (updated >= last watermark) picks up every change.
        updated = {k for r in reports for k in r.updated}
        assert updated
        later = walk(
            client,
            {"jql": f'project in ({keys}) AND updated >= "2000/01/01 00:00"', "fields": ["key"]},
        )
        assert len(later) == org.issue_count - len(deleted_ids)


def test_minute_resolution_and_page_caps(small_org_readonly: Org) -> None:
    org = small_org_readonly
    issue = org.issue(100)
    assert issue is not None
    from connectors.sandbox.timefmt import jira_timestamp

    minute = jira_timestamp(issue.updated_ms)[:16].replace("-", "/").replace("T", " ")
    with jira_client(JiraSimulator(org, DEMO_JIRA)) as client:
        key = org.projects[issue.project].key
        page = client.get(
            "/rest/api/3/search/jql",
            params={
                "jql": f'project = {key} AND updated >= "{minute}" ORDER BY updated ASC',
                "fields": "updated",
            },
        ).json()
        assert page["issues"][0]["id"] == issue.id  # seconds are ignored: same minute matches
        big = client.get(
            "/rest/api/3/search/jql",
            params={"jql": f"project = {key}", "fields": "*all", "maxResults": 500},
        ).json()
        assert len(big["issues"]) == 100 and not big["isLast"]
        ids = client.get(
            "/rest/api/3/search/jql", params={"jql": f"project = {key}", "maxResults": 500}
        ).json()
        assert len(ids["issues"]) > 100
        bad = client.get(
            "/rest/api/3/search/jql", params={"jql": f"project = {key}", "nextPageToken": "garbage"}
        )
        assert bad.status_code == 400


def test_moved_issue_keeps_id_and_old_key_resolves() -> None:
    org = Org(13, "tiny")
    report = org.apply(MutationPlan(move=1))
    old, new = report.moved[0]
    with jira_client(JiraSimulator(org, DEMO_JIRA)) as client:
        a = client.get(f"/rest/api/3/issue/{old}").json()
        b = client.get(f"/rest/api/3/issue/{new}").json()
        assert a == b and a["key"] == new
        items = [
            it
            for h in client.get(f"/rest/api/3/issue/{new}/changelog").json()["values"]
            for it in h["items"]
        ]
        assert {
            "field": "Key",
            "fieldtype": "jira",
            "from": None,
            "fromString": old,
            "to": None,
            "toString": new,
        } in items
        by_old = client.post(
            "/rest/api/3/search/jql", json={"jql": f"key in ({old})", "fields": ["key"]}
        ).json()
        assert by_old["issues"][0]["key"] == new


def test_same_seed_same_bytes() -> None:
    def fetch() -> list[bytes]:
        org = Org(21, "small")
        with jira_client(JiraSimulator(org, DEMO_JIRA)) as client:
            keys = ", ".join(p.key for p in org.projects)
            body = {
                "jql": f"project in ({keys})",
                "fields": ["*all"],
                "expand": "changelog",
                "maxResults": 100,
            }
            first = client.post("/rest/api/3/search/jql", json=body)
            return [
                first.content,
                client.post(
                    "/rest/api/3/search/jql",
                    json={**body, "nextPageToken": first.json()["nextPageToken"]},
                ).content,
                client.get("/rest/api/3/users/search").content,
                client.get("/rest/api/3/project/search").content,
            ]

    assert fetch() == fetch()


async def test_async_client_in_process(small_org_readonly: Org) -> None:
    sim = JiraSimulator(small_org_readonly, DEMO_JIRA)
    async with httpx.AsyncClient(
        transport=httpx.MockTransport(sim.handle), auth=(DEMO_JIRA.email, DEMO_JIRA.api_token)
    ) as client:
        r = await client.get("https://sandbox.atlassian.net/rest/api/3/myself")
        assert r.status_code == 200


def test_pages_served_again_are_the_same_bytes_as_fresh_until_the_org_changes() -> None:
    # The simulator keeps each issue's encoded JSON per org version and site base: serving
    # a walk again must give what a fresh simulator gives, before and after a change.
    def pages(sim: JiraSimulator, base: str = "https://sandbox.atlassian.net") -> list[bytes]:
        client = httpx.Client(
            transport=httpx.MockTransport(sim.handle),
            base_url=base,
            auth=(DEMO_JIRA.email, DEMO_JIRA.api_token),
        )
        keys = ", ".join(p.key for p in sim.org.projects)
        body = {"jql": f"project in ({keys}) ORDER BY key ASC", "fields": ["*navigable"]}
        body |= {"expand": "changelog", "maxResults": 100, "nextPageToken": None}
        out: list[bytes] = []
        with client:
            while True:
                response = client.post("/rest/api/3/search/jql", json=body)
                out.append(response.content)
                page = response.json()
                if page["isLast"]:
                    return out
                body["nextPageToken"] = page["nextPageToken"]

    org, twin = Org(21, "small"), Org(21, "small")
    served = JiraSimulator(org, DEMO_JIRA)
    assert pages(served) == pages(served) == pages(JiraSimulator(twin, DEMO_JIRA))
    other = "https://other.atlassian.net"
    assert pages(served, other) == pages(JiraSimulator(twin, DEMO_JIRA), other)
    plan = MutationPlan(create=5, update=40, move=5, delete=5)
    org.apply(plan)
    twin.apply(plan)
    assert pages(served) == pages(JiraSimulator(twin, DEMO_JIRA))
