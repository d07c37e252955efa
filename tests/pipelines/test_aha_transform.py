"""Aha! payloads → canonical rows (pure functions)."""

from __future__ import annotations

from datetime import UTC, datetime

from connectors.aha.models import Feature, Idea, Release
from pulse_console.pipelines.aha import transform
from pulse_console.pipelines.jira.transform import Tenant

T = Tenant(1, 2)
JIRA_URL = "https://x.atlassian.net/browse/PAY-12"
_STAYS = [
    {"status_name": "In development", "started_at": "2024-03-01T10:00:00Z",
     "ended_at": "2024-03-04T10:00:00Z"},
    {"status_name": "Shipped", "started_at": "2024-03-04T10:00:00Z", "ended_at": None},
]  # fmt: skip


def _feature(**extra: object) -> Feature:
    return Feature.model_validate(
        {
            "id": "601",
            "reference_num": "PRJ-7",
            "name": "Feature",
            "workflow_status": {"id": "9", "name": "Shipped", "position": 5, "complete": True},
            "workflow_status_times": _STAYS,
            **extra,
        }
    )


def test_a_feature_integrated_with_jira_and_azure_devops_links_both_by_key() -> None:
    feature = _feature(
        integration_fields=[
            {"name": "key", "value": "PAY-12", "service_name": "jira"},
            {
                "name": "url",
                "value": "https://x.atlassian.net/browse/PAY-12",
                "service_name": "jira",
            },
            {"name": "id", "value": "4711", "service_name": "azure_devops"},
            {"name": "key", "value": "ignored", "service_name": "salesforce"},
        ]
    )

    links = transform.link_rows(T, feature)

    assert [(r["kind"], r["url"], r["detail"]) for r in links] == [
        ("azure_devops", "4711", None),
        ("jira", "PAY-12", JIRA_URL),
    ]


def test_status_history_becomes_status_transitions_and_resolved_at() -> None:
    rows = transform.item_rows(T, _feature(), "PRJ")

    assert [(r["from_value"], r["to_value"], r["field"]) for r in rows.transitions] == [
        ("In development", "Shipped", "status")
    ]
    assert rows.item["resolved_at"].isoformat() == "2024-03-04T10:00:00+00:00"
    assert rows.item["type"] == "Feature" and rows.item["project_key"] == "PRJ"


def test_an_open_status_has_no_resolved_at() -> None:
    status = {"id": "3", "name": "In development", "position": 3, "complete": False}
    rows = transform.item_rows(T, _feature(workflow_status=status), "PRJ")

    assert rows.item["resolved_at"] is None


def test_an_idea_keeps_its_votes_and_promoted_feature() -> None:
    idea = Idea.model_validate(
        {"id": "8", "reference_num": "PRJ-I-1", "votes": 17,
         "feature": {"id": "601", "reference_num": "PRJ-7"}}
    )  # fmt: skip

    rows = transform.item_rows(T, idea, "PRJ")

    assert rows.item["custom_fields"]["votes"] == 17
    assert rows.item["custom_fields"]["feature_id"] == "601"


def test_a_release_without_the_released_flag_is_released_once_shipped() -> None:
    shipped = Release.model_validate(
        {"id": "5", "reference_num": "PRJ-R-1", "name": "R1", "released_on": "2024-03-01"}
    )
    planned = Release.model_validate({"id": "6", "reference_num": "PRJ-R-2", "name": "R2"})

    assert transform.release_row(T, shipped, "PRJ")["released"] is True
    assert transform.release_row(T, planned, "PRJ")["released"] is False


def test_without_history_a_status_change_is_seen_between_syncs() -> None:
    moved = _feature(workflow_status_times=None, updated_at="2024-03-05T08:00:00Z")
    before = transform.Stored(status="In development", resolved_at=None)

    rows = transform.item_rows(T, moved, "PRJ", stored=before)
    again = transform.item_rows(T, moved, "PRJ", stored=transform.Stored("Shipped", None))

    assert [(r["from_value"], r["to_value"]) for r in rows.transitions] == [
        ("In development", "Shipped")
    ]
    assert rows.transitions[0]["changed_at"].isoformat() == "2024-03-05T08:00:00+00:00"
    assert rows.item["resolved_at"] == rows.transitions[0]["changed_at"]
    assert not rows.has_history and again.transitions == []


def test_without_history_the_first_sight_of_done_is_kept_as_resolved_at() -> None:
    first = transform.Stored(status="Shipped", resolved_at=datetime(2024, 3, 2, tzinfo=UTC))
    later = _feature(workflow_status_times=None, updated_at="2024-03-09T00:00:00Z")

    rows = transform.item_rows(T, later, "PRJ", stored=first)

    assert rows.item["resolved_at"] == datetime(2024, 3, 2, tzinfo=UTC)
