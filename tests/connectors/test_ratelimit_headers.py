"""Parsing of every rate-limit header format we know."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from connectors.http import parse_rate_limit, parse_reset, parse_retry_after

NOW = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)


def test_jira_reset_is_an_iso_minute_timestamp() -> None:
    assert parse_reset("2025-03-01T12:05Z") == datetime(2025, 3, 1, 12, 5, tzinfo=UTC)
    assert parse_reset("2026-03-26T16:00Z") == datetime(2026, 3, 26, 16, 0, tzinfo=UTC)


def test_github_reset_is_epoch_seconds() -> None:
    assert parse_reset("1740830400") == datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def test_unparseable_reset_is_ignored() -> None:
    assert parse_reset("soon") is None
    assert parse_reset("") is None
    assert parse_reset(None) is None


def test_retry_after_seconds_and_http_date() -> None:
    assert parse_retry_after("120", NOW) == 120.0
    assert parse_retry_after("Sat, 01 Mar 2025 12:02:00 GMT", NOW) == 120.0
    assert parse_retry_after("Sat, 01 Mar 2025 11:00:00 GMT", NOW) == 0.0
    assert parse_retry_after("garbage", NOW) is None


def test_all_jira_headers_together() -> None:
    headers = httpx.Headers(
        {
            "Retry-After": "30",
            "X-RateLimit-Reset": "2025-03-01T12:01Z",
            "X-RateLimit-Limit": "350",
            "X-RateLimit-Remaining": "0",
            "RateLimit-Reason": "jira-burst-based",
        }
    )
    info = parse_rate_limit(headers, NOW)
    assert info.retry_after == 30.0
    assert info.reset_at == datetime(2025, 3, 1, 12, 1, tzinfo=UTC)
    assert info.limit == 350
    assert info.exhausted
    assert info.reason == "jira-burst-based"
    assert info.wait_seconds(NOW) == 30.0


def test_beta_headers_take_the_longer_wait() -> None:
    headers = httpx.Headers(
        {
            "Retry-After": "5",
            "Beta-Retry-After": "40",
            "X-Beta-RateLimit-Reset": "2025-03-01T13:00Z",
            "X-Beta-RateLimit-Reason": "jira-quota-tenant-based",
        }
    )
    info = parse_rate_limit(headers, NOW)
    assert info.retry_after == 40.0
    assert info.reset_at == datetime(2025, 3, 1, 13, 0, tzinfo=UTC)
    assert info.reason == "jira-quota-tenant-based"


def test_reset_alone_gives_the_wait() -> None:
    info = parse_rate_limit(httpx.Headers({"X-RateLimit-Reset": "1740830460"}), NOW)
    assert info.wait_seconds(NOW) == 60.0
