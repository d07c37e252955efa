"""Every recorded Jira payload we have parses into our models, losing nothing we read."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from connectors.jira.models import (
    ChangeHistory,
    DevStatusDetail,
    FieldInfo,
    Issue,
    IssueType,
    Project,
    Status,
    User,
    custom_field_names,
)
from tests.connectors.jira.fixtures import openapi_example, raw_table_rows
from tests.connectors.jira.scripted import ScriptedJira, cloud_client

BULK = "/rest/api/3/changelog/bulkfetch"
COUNT = "/rest/api/3/search/approximate-count"

# -- DevLake real captures -----------------------------------------------------------------


def test_real_issues_parse_with_aware_utc_times_and_complete_embedded_changelogs() -> None:
    rows = list(raw_table_rows("_raw_jira_api_issues.csv"))
    assert len(rows) == 33
    for _url, body in rows:
        issue = Issue.model_validate(body)
        fields = issue.fields
        assert fields.created is not None and fields.created.tzinfo is UTC
        assert fields.updated is not None and fields.status is not None
        assert fields.project is not None and fields.issuetype is not None
        assert fields.custom_fields(), "custom fields are kept"
        assert issue.changelog is not None and issue.changelog.is_complete
        assert len(issue.changelog.histories) == issue.changelog.total


def test_real_issue_keeps_non_ascii_names_and_converts_plus_0800_offsets() -> None:
    _url, body = next(iter(raw_table_rows("_raw_jira_api_issues.csv")))
    issue = Issue.model_validate(body)
    assert issue.key == "EE-1"
    assert issue.fields.status is not None
    assert issue.fields.status.name == "已完成"
    assert issue.fields.issuetype is not None and issue.fields.issuetype.name == "故事"
    # 2020-06-12T08:13:13.360+0800
    assert issue.fields.created == datetime(2020, 6, 12, 0, 13, 13, 360000, tzinfo=UTC)


def test_real_changelog_histories_parse_including_items_without_field_id() -> None:
    rows = list(raw_table_rows("_raw_jira_api_issue_changelogs.csv"))
    assert len(rows) == 279
    without_id = 0
    for _url, body in rows:
        history = ChangeHistory.model_validate(body)
        assert history.created.tzinfo is UTC
        assert history.items
        without_id += sum(1 for item in history.items if item.field_id is None)
    assert without_id > 0


def test_real_dev_status_details_parse_gitlab_repositories_and_commits() -> None:
    rows = list(raw_table_rows("_raw_jira_api_development_panels.csv"))
    assert len(rows) == 91
    commits = 0
    for url, body in rows:
        detail = DevStatusDetail.model_validate(body)
        assert "dataType=repository" in url
        for block in detail.detail:
            assert block.instance is not None and block.instance.type == "GitLab"
        for repo in detail.repositories:
            assert repo.url
            for commit in repo.commits:
                assert commit.author_timestamp is None or commit.author_timestamp.tzinfo is UTC
                commits += 1
    assert commits == 646


@pytest.mark.parametrize(
    ("table", "model", "count"),
    [
        ("_raw_jira_api_status.csv", Status, 53),
        ("_raw_jira_api_users.csv", User, 30),
        ("_raw_jira_api_projects.csv", Project, 12),
        ("_raw_jira_api_issue_types.csv", IssueType, 7),
        ("_raw_jira_api_issue_fields.csv", FieldInfo, 2),
    ],
)
def test_real_metadata_rows_parse(table: str, model: type[object], count: int) -> None:
    rows = list(raw_table_rows(table))
    assert len(rows) == count
    for _url, body in rows:
        model.model_validate(body)  # type: ignore[attr-defined]


def test_real_statuses_keep_their_category_and_non_ascii_names() -> None:
    statuses = [Status.model_validate(b) for _u, b in raw_table_rows("_raw_jira_api_status.csv")]
    assert {s.status_category.key for s in statuses if s.status_category} <= {
        "new",
        "indeterminate",
        "done",
        "undefined",
    }
    assert any(s.name == "已完成" for s in statuses)


def test_real_custom_fields_are_named() -> None:
    fields = [
        FieldInfo.model_validate(b) for _u, b in raw_table_rows("_raw_jira_api_issue_fields.csv")
    ]
    assert custom_field_names(fields) == {
        "customfield_10315": "cu用户单选",
        "customfield_10400": "gitBranch",
    }


# -- Atlassian's OpenAPI examples, served through the client -------------------------------


def test_openapi_search_jql_example_is_a_last_page() -> None:
    script = ScriptedJira().add(
        "POST", "/rest/api/3/search/jql", openapi_example("search_jql_GET_200.json")
    )
    page = cloud_client(script).search_page("project = ED")
    assert [i.key for i in page.issues] == ["ED-1"]
    assert page.is_last and page.next_page_token is None
    assert page.rejected == []


def test_openapi_bulkfetch_example_follows_its_token() -> None:
    script = (
        ScriptedJira()
        .add(
            "POST",
            "/rest/api/3/changelog/bulkfetch",
            openapi_example("changelog_bulkfetch_200.json"),
        )
        .add("POST", "/rest/api/3/changelog/bulkfetch", {"issueChangeLogs": []})
    )
    batch = cloud_client(script).bulk_changelogs(["10100"])
    histories = batch.histories["10100"]
    assert len(histories) == 2
    assert histories[0].created <= histories[1].created
    assert (
        script.bodies("POST", "/rest/api/3/changelog/bulkfetch")[1]["nextPageToken"] == "UxAQBFRF"
    )


def test_openapi_issue_changelog_example_values_parse() -> None:
    body = openapi_example("issue_changelog_200.json")
    histories = [ChangeHistory.model_validate(v) for v in body["values"]]
    assert histories[0].items[0].from_ is None
    assert histories[0].items[0].to_string == "label-1"


def test_openapi_metadata_examples_through_the_client() -> None:
    project_page = openapi_example("project_search_200.json")
    project_page["isLast"] = True
    script = (
        ScriptedJira()
        .add("GET", "/rest/api/3/status", openapi_example("status_200.json"))
        .add("GET", "/rest/api/3/field", openapi_example("field_200.json"))
        .add("GET", "/rest/api/3/users/search", openapi_example("users_search_200.json"))
        .add("GET", "/rest/api/3/users/search", [])
        .add("GET", "/rest/api/3/project/search", project_page)
        .add(
            "POST",
            "/rest/api/3/search/approximate-count",
            openapi_example("approximate_count_200.json"),
        )
    )
    client = cloud_client(script)
    statuses = client.statuses()
    assert statuses[0].status_category is not None
    assert statuses[0].status_category.key == "in-flight"
    assert [f.id for f in client.fields()] == ["description", "summary"]
    assert [u.display_name for u in client.iter_users()] == ["Mia Krystof", "Emma Richards"]
    assert [p.key for p in client.iter_projects()] == ["EX", "ABC"]
    assert client.approximate_count("project = HSP") == 153
    field_search = openapi_example("field_search_200.json")
    # field/search omits "custom"; the customfield_ id still marks them.
    assert [FieldInfo.model_validate(v).is_custom for v in field_search["values"]] == [True, True]
