"""Reading Jira's Development field (devsummarycf) from search results."""

from __future__ import annotations

import json

from connectors.jira.development import NO_DEVELOPMENT, development_field_id, parse_dev_summary
from connectors.jira.models import FieldInfo

# The shape recorded from a Jira Cloud search (a Bitbucket-linked issue, one merged pull
# request), reduced to the keys that matter; the Java part is opaque text.
_CACHED = {
    "cachedValue": {
        "errors": [],
        "configErrors": [],
        "summary": {
            "pullrequest": {
                "overall": {
                    "count": 1,
                    "lastUpdated": "2020-01-12T17:43:37.000+0300",
                    "stateCount": 1,
                    "state": "MERGED",
                    "details": {"openCount": 0, "mergedCount": 1, "declinedCount": 0, "total": 1},
                    "open": False,
                },
                "byInstanceType": {"source_repo_services": {"count": 1, "name": "Bitbucket"}},
            },
            "branch": {"overall": {"count": 1, "lastUpdated": None}, "byInstanceType": {}},
        },
    },
    "isStale": False,
}
RECORDED = (
    "{summaryBean=com.atlassian.jira.plugin.devstatus.rest.SummaryBean@440ebfb2[summary="
    "{pullrequest=...[overall=PullRequestOverallBean{stateCount=1, state='MERGED'}]},"
    f"errors=[],configErrors=[]], devSummaryJson={json.dumps(_CACHED)}}}"
)


def test_an_issue_without_development_data_shows_nothing() -> None:
    assert parse_dev_summary("{}") == NO_DEVELOPMENT
    assert not NO_DEVELOPMENT.has_pull_requests


def test_the_recorded_value_shows_its_pull_request() -> None:
    summary = parse_dev_summary(RECORDED)
    assert summary is not None and summary.pull_requests == 1 and summary.has_pull_requests


def test_the_fingerprint_changes_when_a_pull_request_is_updated() -> None:
    newer = json.loads(json.dumps(_CACHED))
    newer["cachedValue"]["summary"]["pullrequest"]["overall"]["lastUpdated"] = "2020-02-01"
    value = RECORDED.replace(json.dumps(_CACHED), json.dumps(newer))
    first, second = parse_dev_summary(RECORDED), parse_dev_summary(value)
    assert first is not None and second is not None
    assert first.fingerprint != second.fingerprint


def test_an_unreadable_or_missing_value_is_unknown_not_empty() -> None:
    assert parse_dev_summary(None) is None
    assert parse_dev_summary("{summaryBean=x, devSummaryJson={not json}}") is None
    assert parse_dev_summary(42) is None


def test_the_field_is_found_by_its_type_not_its_id() -> None:
    fields = [
        FieldInfo.model_validate({"id": "summary", "name": "Summary"}),
        FieldInfo.model_validate(
            {
                "id": "customfield_10500",
                "name": "Development",
                "schema": {
                    "type": "any",
                    "custom": "com.atlassian.jira.plugins.jira-development-integration-plugin"
                    ":devsummarycf",
                    "customId": 10500,
                },
            }
        ),
    ]
    assert development_field_id(fields) == "customfield_10500"
    assert development_field_id(fields[:1]) is None
