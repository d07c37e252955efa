"""JiraClient paging, fallbacks and errors against small scripted servers."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from connectors.base import Connector
from connectors.errors import BadPayload, Cancelled, RequestRejected
from connectors.http import CancelToken
from connectors.jira import Deployment, JiraClient
from tests.connectors.jira.scripted import TOKEN, ScriptedJira, cloud_client, dc_client

SEARCH = "/rest/api/3/search/jql"
BULK = "/rest/api/3/changelog/bulkfetch"


def issue(n: int, *, histories: int | None = None, total: int | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": str(10000 + n),
        "key": f"ALP-{n}",
        "fields": {"summary": f"Issue {n}", "updated": "2024-01-05T10:20:30.123+0000"},
    }
    if histories is not None:
        items = [history(n * 100 + h, minute=59 - h) for h in range(histories)]  # newest first
        body["changelog"] = {
            "startAt": 0,
            "maxResults": histories,
            "total": histories if total is None else total,
            "histories": items,
        }
    return body


def history(hid: int, *, minute: int = 0) -> dict[str, Any]:
    return {
        "id": str(hid),
        "created": f"2024-01-05T10:{minute:02d}:00.000+0000",
        "author": {"accountId": "a1", "displayName": "Ada"},
        "items": [
            {"field": "status", "fieldtype": "jira", "fromString": "To Do", "toString": "Done"}
        ],
    }


def project(n: int) -> dict[str, Any]:
    return {"id": str(n), "key": f"P{n}", "name": f"Project {n}"}


def user(n: int) -> dict[str, Any]:
    return {"accountId": f"u{n}", "displayName": f"User {n}"}


def page(start: int, values: list[dict[str, Any]], total: int) -> dict[str, Any]:
    """A ``PageBeanChangelog`` as /issue/{id}/changelog returns it."""
    return {
        "startAt": start,
        "maxResults": 2,
        "total": total,
        "isLast": start + len(values) >= total,
        "values": values,
    }


# -- construction and connection ---------------------------------------------------------


def test_cloud_client_uses_basic_auth_and_is_a_connector() -> None:
    script = ScriptedJira().add("GET", "/rest/api/3/myself", {"accountId": "a1"})
    client = cloud_client(script)
    client.myself()
    expected = base64.b64encode(f"ada@example.com:{TOKEN}".encode()).decode()
    assert script.requests[0].headers["Authorization"] == f"Basic {expected}"
    assert isinstance(client, Connector)
    assert TOKEN not in repr(client)


def test_data_center_client_uses_bearer_and_rest_v2_under_the_context_path() -> None:
    script = ScriptedJira().add(
        "GET", "/jira/rest/api/2/myself", {"name": "ada", "key": "JIRAUSER1"}
    )
    client = dc_client(script)
    me = client.myself()
    assert me.identity == "JIRAUSER1"
    assert script.requests[0].headers["Authorization"] == f"Bearer {TOKEN}"


def test_deployment_is_detected_from_server_info_when_not_given() -> None:
    script = (
        ScriptedJira()
        .add("GET", "/rest/api/2/serverInfo", {"deploymentType": "DataCenter", "version": "9.12.0"})
        .add("GET", "/rest/api/2/status", [])
    )
    client = cloud_client(script)
    client = JiraClient(client.http)  # no deployment given
    assert client.statuses() == []
    assert client.deployment is Deployment.DATA_CENTER


def test_test_connection_reports_who_and_where() -> None:
    script = (
        ScriptedJira()
        .add(
            "GET",
            "/rest/api/2/serverInfo",
            {"deploymentType": "Cloud", "serverTitle": "Acme Jira", "version": "1001.0.0"},
        )
        .add("GET", "/rest/api/3/myself", {"accountId": "a1", "displayName": "Ada Lovelace"})
    )
    check = cloud_client(script).test_connection()
    assert check.ok
    assert check.message == "Connected to Acme Jira (Jira Cloud 1001.0.0) as Ada Lovelace."


def test_test_connection_turns_a_401_into_an_operator_message() -> None:
    script = ScriptedJira().add("GET", "/rest/api/2/serverInfo", {}, status=401)
    check = cloud_client(script).test_connection()
    assert not check.ok
    assert check.title == "Authentication failed"
    assert TOKEN not in check.message


# -- search --------------------------------------------------------------------------------


def test_iter_search_follows_tokens_until_the_key_is_absent() -> None:
    script = (
        ScriptedJira()
        .add(
            "POST", SEARCH, {"issues": [issue(1), issue(2)], "nextPageToken": "t1", "isLast": False}
        )
        .add("POST", SEARCH, {"issues": [issue(3)], "nextPageToken": "t2", "isLast": False})
        .add("POST", SEARCH, {"issues": [issue(4)], "isLast": True})
    )
    pages = list(
        cloud_client(script).iter_search(
            "project = ALP", fields=["summary", "updated"], expand=["changelog", "names"]
        )
    )
    assert [[i.key for i in p.issues] for p in pages] == [["ALP-1", "ALP-2"], ["ALP-3"], ["ALP-4"]]
    assert [p.next_page_token for p in pages] == ["t1", "t2", None]
    bodies = script.bodies("POST", SEARCH)
    assert "nextPageToken" not in bodies[0]
    assert [b.get("nextPageToken") for b in bodies[1:]] == ["t1", "t2"]
    assert bodies[0]["fields"] == ["summary", "updated"]
    assert bodies[0]["expand"] == "changelog,names"  # a string on this endpoint


def test_search_resumes_from_a_checkpointed_token() -> None:
    script = ScriptedJira().add("POST", SEARCH, {"issues": [issue(9)], "isLast": True})
    pages = list(cloud_client(script).iter_search("project = ALP", start_token="saved"))
    assert len(pages) == 1
    assert script.bodies("POST", SEARCH)[0]["nextPageToken"] == "saved"


def test_is_last_wins_over_a_leftover_token() -> None:
    script = ScriptedJira().add(
        "POST", SEARCH, {"issues": [], "nextPageToken": "x", "isLast": True}
    )
    page = cloud_client(script).search_page("project = ALP")
    assert page.is_last and page.next_page_token is None


def test_a_repeated_token_stops_with_bad_payload_instead_of_looping() -> None:
    script = ScriptedJira()
    for _ in range(3):
        script.add("POST", SEARCH, {"issues": [issue(1)], "nextPageToken": "same"})
    with pytest.raises(BadPayload):
        list(cloud_client(script).iter_search("project = ALP"))


def test_an_invalid_issue_is_rejected_alone_with_its_raw_json() -> None:
    broken = {"id": "10099", "fields": {}}  # no key
    script = ScriptedJira().add(
        "POST", SEARCH, {"issues": [issue(1), broken, issue(2)], "isLast": True}
    )
    page = cloud_client(script).search_page("project = ALP")
    assert [i.key for i in page.issues] == ["ALP-1", "ALP-2"]
    (rejected,) = page.rejected
    assert rejected.kind == "issue"
    assert rejected.raw == broken
    assert "key" in rejected.error


def test_a_response_without_issues_is_bad_payload() -> None:
    script = ScriptedJira().add("POST", SEARCH, {"unexpected": True})
    with pytest.raises(BadPayload) as caught:
        cloud_client(script).search_page("project = ALP")
    assert "unexpected" in caught.value.raw


def test_bad_jql_is_rejected_with_jira_s_message() -> None:
    script = ScriptedJira().add(
        "POST",
        SEARCH,
        {"errorMessages": ["Unbounded JQL queries are not allowed here."]},
        status=400,
    )
    with pytest.raises(RequestRejected) as caught:
        cloud_client(script).search_page("order by key")
    assert "Unbounded JQL" in caught.value.message


def test_data_center_search_pages_by_offset_with_total() -> None:
    path = "/jira/rest/api/2/search"
    script = (
        ScriptedJira()
        .add(
            "POST",
            path,
            {"startAt": 0, "maxResults": 2, "total": 3, "issues": [issue(1), issue(2)]},
        )
        .add("POST", path, {"startAt": 2, "maxResults": 2, "total": 3, "issues": [issue(3)]})
    )
    pages = list(
        dc_client(script).iter_search("project = ALP", expand=["changelog"], max_results=2)
    )
    assert [p.next_page_token for p in pages] == ["startAt:2", None]
    assert pages[0].total == 3
    bodies = script.bodies("POST", path)
    assert [b["startAt"] for b in bodies] == [0, 2]
    assert bodies[0]["expand"] == ["changelog"]


def test_approximate_count_on_cloud_and_exact_total_on_data_center() -> None:
    script = ScriptedJira().add("POST", "/rest/api/3/search/approximate-count", {"count": 42})
    assert cloud_client(script).approximate_count("project = ALP") == 42
    script = ScriptedJira().add("POST", "/jira/rest/api/2/search", {"total": 7, "issues": []})
    assert dc_client(script).approximate_count("project = ALP") == 7
    assert script.bodies("POST", "/jira/rest/api/2/search")[0]["maxResults"] == 0


def test_cancel_between_pages_stops_before_the_next_request() -> None:
    token = CancelToken()
    script = (
        ScriptedJira()
        .add("POST", SEARCH, {"issues": [issue(1)], "nextPageToken": "t1"})
        .add("POST", SEARCH, {"issues": [issue(2)], "isLast": True})
    )
    client = cloud_client(script, cancel=token)
    pages = client.iter_search("project = ALP")
    next(pages)
    token.cancel()
    with pytest.raises(Cancelled):
        next(pages)
    assert len(script.requests) == 1


# -- metadata paging -----------------------------------------------------------------------


def test_projects_page_by_start_at_even_when_the_server_caps_page_size() -> None:
    path = "/rest/api/3/project/search"
    script = (
        ScriptedJira()
        .add(
            "GET",
            path,
            {
                "startAt": 0,
                "maxResults": 2,
                "total": 3,
                "isLast": False,
                "values": [project(1), project(2)],
            },
        )
        .add(
            "GET",
            path,
            {"startAt": 2, "maxResults": 2, "total": 3, "isLast": True, "values": [project(3)]},
        )
    )
    keys = [p.key for p in cloud_client(script).iter_projects(page_size=100)]
    assert keys == ["P1", "P2", "P3"]
    assert [r.url.params["startAt"] for r in script.requests] == ["0", "2"]


def test_users_page_until_a_short_page() -> None:
    path = "/rest/api/3/users/search"
    script = (
        ScriptedJira()
        .add("GET", path, [user(1), user(2)])
        .add("GET", path, [user(3), user(4)])
        .add("GET", path, [user(5)])
    )
    ids = [u.account_id for u in cloud_client(script).iter_users(page_size=2)]
    assert ids == ["u1", "u2", "u3", "u4", "u5"]
    assert [r.url.params["startAt"] for r in script.requests] == ["0", "2", "4"]


def test_data_center_projects_are_one_array() -> None:
    script = ScriptedJira().add(
        "GET", "/jira/rest/api/2/project", [{"id": "1", "key": "A", "name": "A"}]
    )
    assert [p.key for p in dc_client(script).iter_projects()] == ["A"]


def test_malformed_metadata_is_bad_payload() -> None:
    script = ScriptedJira().add("GET", "/rest/api/3/status", [{"id": "1"}])  # no name
    with pytest.raises(BadPayload) as caught:
        cloud_client(script).statuses()
    assert '"id": "1"' in caught.value.raw


# -- changelogs ----------------------------------------------------------------------------


def test_bulk_changelogs_merge_pages_sort_oldest_first_and_cover_every_issue() -> None:
    script = (
        ScriptedJira()
        .add(
            "POST",
            BULK,
            {
                "issueChangeLogs": [
                    {"issueId": "10001", "changeHistories": [history(3, minute=30)]},
                ],
                "nextPageToken": "p2",
            },
        )
        .add(
            "POST",
            BULK,
            {
                "issueChangeLogs": [
                    {"issueId": "10001", "changeHistories": [history(1, minute=10)]},
                    {"issueId": "10002", "changeHistories": [history(2, minute=20)]},
                ]
            },
        )
    )
    batch = cloud_client(script).bulk_changelogs(["10001", "10002", "10003"], field_ids=["status"])
    assert [h.id for h in batch.histories["10001"]] == ["1", "3"]
    assert [h.id for h in batch.histories["10002"]] == ["2"]
    assert batch.histories["10003"] == []
    bodies = script.bodies("POST", BULK)
    assert bodies[0] == {"issueIdsOrKeys": ["10001", "10002", "10003"], "fieldIds": ["status"]}
    assert bodies[1]["nextPageToken"] == "p2"


def test_bulk_changelogs_split_at_1000_issues_per_call() -> None:
    script = (
        ScriptedJira()
        .add("POST", BULK, {"issueChangeLogs": []})
        .add("POST", BULK, {"issueChangeLogs": []})
    )
    ids = [str(i) for i in range(1500)]
    batch = cloud_client(script).bulk_changelogs(ids)
    assert [len(b["issueIdsOrKeys"]) for b in script.bodies("POST", BULK)] == [1000, 500]
    assert len(batch.histories) == 1500


def test_a_malformed_history_is_rejected_alone() -> None:
    script = ScriptedJira().add(
        "POST",
        BULK,
        {"issueChangeLogs": [{"issueId": "1", "changeHistories": [history(1), {"id": "2"}]}]},
    )
    batch = cloud_client(script).bulk_changelogs(["1"])
    assert [h.id for h in batch.histories["1"]] == ["1"]
    assert [r.kind for r in batch.rejected] == ["change history"]


def test_without_bulkfetch_the_client_pages_each_issue_and_remembers() -> None:
    script = (
        ScriptedJira()
        .add("POST", BULK, {}, status=404)
        .add(
            "GET",
            "/rest/api/3/issue/10001/changelog",
            page(0, [history(1, minute=1), history(2, minute=2)], 3),
        )
        .add("GET", "/rest/api/3/issue/10001/changelog", page(2, [history(3, minute=3)], 3))
        .add("GET", "/rest/api/3/issue/10002/changelog", page(0, [], 0))
    )
    client = cloud_client(script)
    batch = client.bulk_changelogs(["10001", "10002"])
    assert [h.id for h in batch.histories["10001"]] == ["1", "2", "3"]
    assert batch.histories["10002"] == []
    starts = [
        r.url.params["startAt"] for r in script.calls("GET", "/rest/api/3/issue/10001/changelog")
    ]
    assert starts == ["0", "2"]
    # The 404 is remembered: the next batch goes straight to the per-issue path.
    script.add("GET", "/rest/api/3/issue/10003/changelog", page(0, [history(9)], 1))
    assert [h.id for h in client.bulk_changelogs(["10003"]).histories["10003"]] == ["9"]
    assert len(script.calls("POST", BULK)) == 1


def test_complete_changelogs_fetch_only_truncated_or_missing_ones() -> None:
    complete = issue(1, histories=3)  # 3 of 3 embedded
    truncated = issue(2, histories=2, total=50)  # 2 of 50 embedded
    bare = issue(3)  # search did not expand changelog
    script = ScriptedJira().add(
        "POST",
        BULK,
        {
            "issueChangeLogs": [
                {"issueId": "10002", "changeHistories": [history(7, minute=7)]},
                {"issueId": "10003", "changeHistories": [history(8, minute=8)]},
            ]
        },
    )
    page = cloud_client(script)
    from connectors.jira.models import Issue

    issues = [Issue.model_validate(b) for b in (complete, truncated, bare)]
    batch = page.complete_changelogs(issues)
    assert script.bodies("POST", BULK)[0]["issueIdsOrKeys"] == ["10002", "10003"]
    embedded = batch.histories["10001"]
    assert [h.id for h in embedded] == ["102", "101", "100"]  # re-sorted oldest first
    assert embedded[0].created < embedded[-1].created
    assert [h.id for h in batch.histories["10002"]] == ["7"]


def test_data_center_changelog_comes_from_the_expanded_issue() -> None:
    script = ScriptedJira().add(
        "GET",
        "/jira/rest/api/2/issue/10001",
        {
            "id": "10001",
            "key": "ALP-1",
            "changelog": {
                "startAt": 0,
                "maxResults": 2,
                "total": 2,
                "histories": [history(2, minute=2), history(1, minute=1)],
            },
        },
    )
    batch = dc_client(script).bulk_changelogs(["10001"])
    assert [h.id for h in batch.histories["10001"]] == ["1", "2"]
    assert script.requests[0].url.params["expand"] == "changelog"


# -- dev-status ----------------------------------------------------------------------------


def test_dev_status_pull_requests_are_typed() -> None:
    body = {
        "errors": [],
        "detail": [
            {
                "branches": [],
                "pullRequests": [
                    {
                        "id": "#12",
                        "name": "ALP-1 fix login",
                        "url": "https://github.com/acme/web/pull/12",
                        "status": "MERGED",
                        "lastUpdate": "2023-01-01T00:00:00.000+0000",
                        "source": {
                            "branch": "feature/ALP-1",
                            "url": "https://github.com/acme/web/tree/feature/ALP-1",
                        },
                        "destination": {
                            "branch": "main",
                            "url": "https://github.com/acme/web/tree/main",
                        },
                        "repositoryName": "acme/web",
                        "repositoryUrl": "https://github.com/acme/web",
                    }
                ],
                "_instance": {"type": "GitHub", "name": "GitHub"},
            }
        ],
    }
    path = "/rest/dev-status/latest/issue/detail"
    script = ScriptedJira().add("GET", path, body)
    detail = cloud_client(script).dev_status_detail("10001")
    (pr,) = detail.pull_requests
    assert pr.title == "ALP-1 fix login"
    assert pr.status == "MERGED"
    assert pr.source is not None and pr.source.branch == "feature/ALP-1"
    assert pr.destination is not None and pr.destination.branch == "main"
    assert pr.repository_name == "acme/web"
    assert pr.last_update is not None and pr.last_update.year == 2023
    params = script.requests[0].url.params
    assert (params["issueId"], params["applicationType"], params["dataType"]) == (
        "10001",
        "GitHub",
        "pullrequest",
    )


def test_dev_status_summary_names_the_application_types_to_ask_for() -> None:
    body = {
        "errors": [],
        "configErrors": [],
        "summary": {
            "pullrequest": {
                "overall": {
                    "count": 2,
                    "lastUpdated": "2023-01-01T00:00:00.000+0000",
                    "state": "OPEN",
                },
                "byInstanceType": {"GitHub": {"count": 2, "name": "GitHub"}},
            },
            "branch": {"overall": {"count": 0}, "byInstanceType": {}},
        },
    }
    script = ScriptedJira().add("GET", "/rest/dev-status/latest/issue/summary", body)
    summary = cloud_client(script).dev_status_summary("10001")
    assert summary.count("pullrequest") == 2
    assert summary.count("repository") == 0
    assert summary.application_types("pullrequest") == ["GitHub"]


def test_dev_status_rejects_unknown_data_types() -> None:
    with pytest.raises(ValueError):
        cloud_client(ScriptedJira()).dev_status_detail("1", data_type="commits")
