"""Each Jira endpoint's shape against the vendor's examples and recorded real payloads."""

from __future__ import annotations

import httpx

from tests.sandbox.conftest import all_keys, devlake_rows, example


def test_myself_and_server_info(jira: httpx.Client) -> None:
    me = jira.get("/rest/api/3/myself").json()
    assert {"accountId", "displayName", "emailAddress", "active", "timeZone", "avatarUrls"} <= set(
        me
    )
    info = jira.get("/rest/api/3/serverInfo").json()
    assert info["deploymentType"] == "Cloud" and info["baseUrl"] == "https://sandbox.atlassian.net"


def test_project_search_page_envelope(jira: httpx.Client) -> None:
    page = jira.get("/rest/api/3/project/search", params={"maxResults": 500}).json()
    assert set(example("project_search_200.json")) - {"nextPage"} <= set(page)
    assert page["maxResults"] == 100  # silently capped
    real = all_keys(devlake_rows("_raw_jira_api_projects.csv"))
    assert {"id", "key", "name", "self", "avatarUrls", "style", "simplified"} <= real
    for project in page["values"]:
        assert {"id", "key", "name", "self", "avatarUrls", "style", "simplified"} <= set(project)
    one = jira.get("/rest/api/3/project/search", params={"maxResults": 1}).json()
    assert one["isLast"] is False and "nextPage" in one


def test_status_issuetype_field_users_match_recorded_keys(jira: httpx.Client) -> None:
    statuses = jira.get("/rest/api/3/status").json()
    # "scope" is only on statuses owned by one team-managed project.
    assert all_keys(devlake_rows("_raw_jira_api_status.csv")) - {"scope"} <= all_keys(statuses)
    names = {s["name"] for s in statuses}
    assert {"In Progress", "In progress"} <= names
    types = jira.get("/rest/api/3/issuetype").json()
    assert all_keys(devlake_rows("_raw_jira_api_issue_types.csv")) - {
        "entityId",
        "scope",
    } <= all_keys(types)
    fields = jira.get("/rest/api/3/field").json()
    assert set(example("field_200.json")[1]) <= all_keys(fields)
    users = jira.get("/rest/api/3/users/search", params={"maxResults": 10}).json()
    assert len(users) == 10
    assert set(example("users_search_200.json")[0]) - {"key", "name"} <= all_keys(users)


def test_search_issue_shape_matches_real_issue(jira: httpx.Client) -> None:
    page = jira.get(
        "/rest/api/3/search/jql",
        params={"jql": "project = ANA", "fields": "*all", "expand": "changelog", "maxResults": 5},
    ).json()
    assert set(page) == {"issues", "nextPageToken", "isLast"}
    real = devlake_rows("_raw_jira_api_issues.csv")[0]
    issue = page["issues"][0]
    assert {"id", "key", "self", "expand", "fields", "changelog"} == set(real) == set(issue)
    common = {
        "summary",
        "status",
        "issuetype",
        "project",
        "priority",
        "assignee",
        "reporter",
        "creator",
        "created",
        "updated",
        "resolution",
        "resolutiondate",
        "labels",
        "statuscategorychangedate",
        "customfield_10020",
        "customfield_10019",
    }
    assert common <= set(real["fields"]) and common <= set(issue["fields"])
    assert set(real["changelog"]) == set(issue["changelog"])
    history = issue["changelog"]["histories"][0]
    real_history = real["changelog"]["histories"][0]
    assert set(real_history) == set(history)
    assert set(real_history["author"]) - {"emailAddress"} <= set(history["author"])
    item_keys = {k for h in issue["changelog"]["histories"] for it in h["items"] for k in it}
    assert {"field", "fieldtype", "from", "fromString", "to", "toString"} <= item_keys
    assert issue["fields"]["created"][-5:] == "+0000" and len(issue["fields"]["created"]) == 28


def test_search_default_returns_only_ids(jira: httpx.Client) -> None:
    page = jira.get("/rest/api/3/search/jql", params={"jql": "project = ANA"}).json()
    assert all(set(i) == {"id"} for i in page["issues"])
    assert len(page["issues"]) == 50


def test_changelog_page_envelope_and_bulkfetch(
    jira: httpx.Client, small_org_readonly: object
) -> None:
    jql = "project in (ANA, CAT, INV, SHP) ORDER BY key ASC"
    page = jira.get(
        "/rest/api/3/search/jql",
        params={"jql": jql, "fields": "key", "expand": "changelog", "maxResults": 100},
    ).json()
    churned = next(i for i in page["issues"] if i["changelog"]["total"] > 40)
    assert len(churned["changelog"]["histories"]) == 40
    newest_first = [h["created"] for h in churned["changelog"]["histories"]]
    assert newest_first == sorted(newest_first, reverse=True)
    key = churned["key"]
    first = jira.get(f"/rest/api/3/issue/{key}/changelog", params={"maxResults": 2}).json()
    assert set(example("issue_changelog_200.json")) == set(first)
    values = []
    start = 0
    while True:
        p = jira.get(f"/rest/api/3/issue/{key}/changelog", params={"startAt": start}).json()
        values += p["values"]
        if p["isLast"]:
            break
        start += p["maxResults"]
    assert len(values) == churned["changelog"]["total"]
    assert [v["created"] for v in values] == sorted(v["created"] for v in values)
    bulk = jira.post(
        "/rest/api/3/changelog/bulkfetch", json={"issueIdsOrKeys": [key], "maxResults": 30}
    ).json()
    assert set(bulk) == set(example("changelog_bulkfetch_200.json"))
    assert set(bulk["issueChangeLogs"][0]) == {"issueId", "changeHistories"}
    got = list(bulk["issueChangeLogs"][0]["changeHistories"])
    while "nextPageToken" in bulk:
        bulk = jira.post(
            "/rest/api/3/changelog/bulkfetch",
            json={
                "issueIdsOrKeys": [key],
                "maxResults": 30,
                "nextPageToken": bulk["nextPageToken"],
            },
        ).json()
        got += [h for log in bulk["issueChangeLogs"] for h in log["changeHistories"]]
    assert [h["id"] for h in got] == [v["id"] for v in values]
    status_only = jira.post(
        "/rest/api/3/changelog/bulkfetch", json={"issueIdsOrKeys": [key], "fieldIds": ["status"]}
    ).json()
    items = [
        it
        for log in status_only["issueChangeLogs"]
        for h in log["changeHistories"]
        for it in h["items"]
    ]
    assert items and all(it["fieldId"] == "status" for it in items)
    too_many = jira.post(
        "/rest/api/3/changelog/bulkfetch", json={"issueIdsOrKeys": [str(i) for i in range(1001)]}
    )
    assert too_many.status_code == 400


def test_dev_status(jira: httpx.Client, small_org_readonly: object) -> None:
    from connectors.sandbox.org import Org

    org = small_org_readonly
    assert isinstance(org, Org)
    pr = next(
        org.pull_request(j)
        for j in range(org.pull_request_count)
        if org.pull_request(j).issue_index
    )
    assert pr.issue_index is not None
    issue_id = str(pr.issue_index + 10001)
    summary = jira.get("/rest/dev-status/latest/issue/summary", params={"issueId": issue_id}).json()
    assert summary["summary"]["pullrequest"]["overall"]["count"] >= 1
    detail = jira.get(
        "/rest/dev-status/latest/issue/detail",
        params={"issueId": issue_id, "applicationType": "GitHub", "dataType": "pullrequest"},
    ).json()
    urls = [p["url"] for d in detail["detail"] for p in d["pullRequests"]]
    repo = org.repositories[pr.repository]
    assert f"https://github.com/{repo.full_name}/pull/{pr.number}" in urls
    repo_detail = jira.get(
        "/rest/dev-status/latest/issue/detail",
        params={"issueId": issue_id, "applicationType": "GitHub", "dataType": "repository"},
    ).json()
    real = devlake_rows("_raw_jira_api_development_panels.csv")[0]
    assert set(real) == set(repo_detail)
    assert set(real["detail"][0]) == set(repo_detail["detail"][0])
    assert set(real["detail"][0]["_instance"]) == set(repo_detail["detail"][0]["_instance"])
    gitlab = jira.get(
        "/rest/dev-status/latest/issue/detail",
        params={"issueId": issue_id, "applicationType": "GitLab", "dataType": "pullrequest"},
    ).json()
    assert gitlab == {"errors": [], "detail": []}


def test_errors(jira: httpx.Client) -> None:
    r = jira.get("/rest/api/3/search/jql", params={"jql": "order by key desc"})
    assert r.status_code == 400 and "Unbounded" in r.json()["errorMessages"][0]
    assert jira.get("/rest/api/3/search", params={"jql": "project = ANA"}).status_code == 410
    assert jira.post("/rest/api/3/search", json={"jql": "project = ANA"}).status_code == 410
    assert jira.get("/rest/api/3/issue/NOPE-1").status_code == 404
    bad = jira.get("/rest/api/3/search/jql", params={"jql": "projekt = ANA"})
    assert bad.status_code == 400 and set(bad.json()) == {"errorMessages", "errors"}
    count = jira.post("/rest/api/3/search/approximate-count", json={"jql": "project = ANA"}).json()
    assert set(count) == set(example("approximate_count_200.json")) and count["count"] > 0


def test_auth_failures(small_org_readonly: object) -> None:
    from connectors.sandbox.credentials import DEMO_JIRA
    from connectors.sandbox.jira import JiraSimulator
    from connectors.sandbox.org import Org

    assert isinstance(small_org_readonly, Org)
    sim = JiraSimulator(small_org_readonly, DEMO_JIRA)
    for auth in ((DEMO_JIRA.email, "wrong"), ("other@example.com", DEMO_JIRA.api_token), None):
        with httpx.Client(transport=httpx.MockTransport(sim.handle), auth=auth) as client:
            r = client.get("https://sandbox.atlassian.net/rest/api/3/myself")
            assert r.status_code == 401
            assert r.text == "Client must be authenticated to access this resource."
