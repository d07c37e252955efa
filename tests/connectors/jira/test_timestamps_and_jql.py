"""Jira timestamp parsing and JQL literal formatting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from connectors.jira import format_jql_datetime, parse_jira_datetime, quote, sync_jql


@pytest.mark.parametrize(
    "text",
    [
        "2024-01-05T10:20:30.123+0000",
        "2024-01-05T10:20:30.123Z",
        "2024-01-05T18:20:30.123+0800",
        "2024-01-05T18:20:30.123+08:00",
        "2024-01-05T05:20:30.123-0500",
    ],
)
def test_every_offset_form_becomes_the_same_utc_instant(text: str) -> None:
    parsed = parse_jira_datetime(text)
    assert parsed == datetime(2024, 1, 5, 10, 20, 30, 123000, tzinfo=UTC)
    assert parsed.tzinfo is UTC


def test_epoch_seconds_and_milliseconds() -> None:
    # changelog/bulkfetch's OpenAPI example types ``created`` as an integer.
    assert parse_jira_datetime(1492070429) == datetime(2017, 4, 13, 8, 0, 29, tzinfo=UTC)
    assert parse_jira_datetime(1492070429000) == datetime(2017, 4, 13, 8, 0, 29, tzinfo=UTC)


def test_timestamps_without_offset_are_refused() -> None:
    with pytest.raises(ValueError):
        parse_jira_datetime("2024-01-05T10:20:30.123")
    with pytest.raises(ValueError):
        parse_jira_datetime(True)


def test_jql_literal_is_minute_resolution_in_the_users_zone() -> None:
    moment = datetime(2024, 1, 5, 10, 20, 59, tzinfo=UTC)
    assert format_jql_datetime(moment) == "2024/01/05 10:20"
    assert format_jql_datetime(moment, "Asia/Shanghai") == "2024/01/05 18:20"
    assert format_jql_datetime(moment, timezone(timedelta(hours=-5))) == "2024/01/05 05:20"
    with pytest.raises(ValueError):
        format_jql_datetime(datetime(2024, 1, 5, 10, 20))


def test_sync_jql_is_bounded_and_ordered_for_watermarks() -> None:
    assert sync_jql(["ALP", "BET"]) == ('project in ("ALP", "BET") ORDER BY updated ASC, id ASC')
    since = datetime(2024, 1, 5, 10, 20, tzinfo=UTC)
    assert sync_jql(["ALP"], since, "Europe/Paris") == (
        'project in ("ALP") AND updated >= "2024/01/05 11:20" ORDER BY updated ASC, id ASC'
    )


def test_quote_escapes_quotes_and_backslashes() -> None:
    assert quote('a"b\\c') == '"a\\"b\\\\c"'
