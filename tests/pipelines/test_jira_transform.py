"""Recorded real Jira payloads (DevLake captures) transform into rows without loss."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from connectors.jira.models import (
    ChangeHistory,
    DevStatusDetail,
    FieldInfo,
    Issue,
    Project,
    Status,
    User,
)
from pulse_console.pipelines.jira import transform
from pulse_console.pipelines.jira.transform import Tenant
from tests.connectors.jira.fixtures import raw_table_rows

T = Tenant(client_id=1, integration_id=2)


def test_real_issues_become_work_items_with_utc_times_and_named_custom_fields() -> None:
    fields = [
        FieldInfo.model_validate(b)
        for _u, body in raw_table_rows("_raw_jira_api_issue_fields.csv")
        for b in (body if isinstance(body, list) else [body])
    ]
    names = transform.custom_field_names(fields)
    rows = [
        transform.work_item_row(T, Issue.model_validate(body), names)
        for _url, body in raw_table_rows("_raw_jira_api_issues.csv")
    ]
    assert len(rows) == 33
    first = rows[0]
    assert first["key"] == "EE-1" and first["status"] == "已完成" and first["type"] == "故事"
    # 2020-06-12T08:13:13.360+0800
    assert first["created_at"] == datetime(2020, 6, 12, 0, 13, 13, 360000, tzinfo=UTC)
    for row in rows:
        assert row["external_id"] and row["project_key"] and row["updated_at"].tzinfo is UTC
        raw = json.loads(row["raw"])
        assert raw["id"] == row["external_id"] and "changelog" not in raw
        assert None not in row["custom_fields"].values()
        assert all(isinstance(k, str) for k in row["custom_fields"])


def test_embedded_changelogs_of_real_issues_become_one_row_per_changed_field() -> None:
    total_items = 0
    for _url, body in raw_table_rows("_raw_jira_api_issues.csv"):
        issue = Issue.model_validate(body)
        assert issue.changelog is not None
        histories = issue.changelog.histories
        rows = transform.transition_rows(T, 99, histories)
        items = sum(len(h.items) for h in histories)
        total_items += items
        assert len(rows) == items
        assert {(r["external_id"], r["item_index"]) for r in rows} == {
            (h.id, i) for h in histories for i in range(len(h.items))
        }
    assert total_items > 0


def test_real_changelog_rows_keep_from_to_strings_ids_and_author() -> None:
    histories = [
        ChangeHistory.model_validate(body)
        for _u, body in raw_table_rows("_raw_jira_api_issue_changelogs.csv")
    ]
    rows = transform.transition_rows(T, 1, histories)
    assert len(rows) == sum(len(h.items) for h in histories)
    status = [r for r in rows if r["field"] == "status"]
    assert status and all(r["to_value"] and r["to_id"] for r in status)
    assert all(r["changed_at"].tzinfo is UTC for r in rows)
    assert any(r["author"] for r in rows)


def test_real_gitlab_dev_status_repositories_become_commit_links() -> None:
    links = []
    for _url, body in raw_table_rows("_raw_jira_api_development_panels.csv"):
        detail = DevStatusDetail.model_validate(body)
        rows = transform.link_rows(1, 5, detail)
        assert len(rows) == sum(len(r.commits) for r in detail.repositories)
        links.extend(rows)
    assert links and all(r["kind"] == "commit" and r["url"] for r in links)
    assert all(r["repository"] for r in links)


def test_pull_request_urls_of_github_bitbucket_and_gitlab_are_parsed() -> None:
    parse = transform.parse_pull_request_url
    assert parse("https://github.com/acme/api/pull/42") == ("acme/api", 42)
    assert parse("https://bitbucket.org/acme/api/pull-requests/7") == ("acme/api", 7)
    assert parse("https://gitlab.com/group/sub/api/-/merge_requests/3") == ("group/sub/api", 3)
    assert parse("https://example.com/nothing") == (None, None)


def test_real_metadata_rows() -> None:
    statuses = [
        transform.status_row(T, Status.model_validate(b))
        for _u, b in raw_table_rows("_raw_jira_api_status.csv")
    ]
    assert len(statuses) == 53 and any(s["name"] == "已完成" for s in statuses)
    assert {s["category"] for s in statuses} <= {"new", "indeterminate", "done", "undefined"}
    users = [
        transform.user_row(T, User.model_validate(b))
        for _u, b in raw_table_rows("_raw_jira_api_users.csv")
    ]
    assert len(users) == 30 and all(u is not None and u["external_id"] for u in users)
    projects = [
        transform.project_row(T, Project.model_validate(b))
        for _u, b in raw_table_rows("_raw_jira_api_projects.csv")
    ]
    assert len(projects) == 12 and all(p["key"] for p in projects)


def test_custom_field_names_stay_unique_when_two_fields_share_a_name() -> None:
    fields = [
        FieldInfo(id="customfield_1", name="Team", custom=True),
        FieldInfo(id="customfield_2", name="Team", custom=True),
        FieldInfo(id="customfield_3", name="Story Points", custom=True),
        FieldInfo(id="summary", name="Summary"),
    ]
    assert transform.custom_field_names(fields) == {
        "customfield_1": "Team (customfield_1)",
        "customfield_2": "Team (customfield_2)",
        "customfield_3": "Story Points",
    }
