"""Time formats of the simulated services, and the organisation's fixed clock.

All generated times are integer milliseconds since the Unix epoch, UTC. By default the org's
"now" is derived from the seed, never from the wall clock, so responses are byte-for-byte
repeatable; the demo anchors it at the current minute instead (`current_anchor_ms`), so its
history ends today whatever today is.
"""

from __future__ import annotations

import datetime as dt

_UTC = dt.UTC
MINUTE_MS = 60_000
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS

# 2025-03-03T09:00:00Z, a Monday: the earliest anchor.
_ANCHOR_BASE_MS = int(dt.datetime(2025, 3, 3, 9, 0, tzinfo=_UTC).timestamp() * 1000)


def anchor_ms(seed: int) -> int:
    """The org's "now": a whole minute within a year after the base, chosen by the seed."""
    return _ANCHOR_BASE_MS + (seed % 365) * DAY_MS + (seed * 7919 % 480) * MINUTE_MS


def current_anchor_ms() -> int:
    """The wall clock floored to the minute: an org's "now" that makes its history end today."""
    now_ms = int(dt.datetime.now(_UTC).timestamp() * 1000)
    return now_ms - now_ms % MINUTE_MS


def _datetime(ms: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ms / 1000, tz=_UTC)


def jira_timestamp(ms: int) -> str:
    """Jira's ``yyyy-MM-dd'T'HH:mm:ss.SSSZ`` (e.g. ``2024-01-05T10:20:30.123+0000``)."""
    d = _datetime(ms)
    return f"{d:%Y-%m-%dT%H:%M:%S}.{ms % 1000:03d}+0000"


def github_timestamp(ms: int) -> str:
    """GitHub's ISO-8601 ``DateTime`` (seconds, ``Z``), as in ``2024-01-05T10:20:30Z``."""
    return f"{_datetime(ms):%Y-%m-%dT%H:%M:%SZ}"


def jira_date(ms: int) -> str:
    return f"{_datetime(ms):%Y-%m-%d}"


def parse_jql_datetime(text: str) -> int | None:
    """A JQL date literal (``yyyy/MM/dd HH:mm``, ``yyyy-MM-dd HH:mm`` or a bare date) in ms.

    JQL dates carry no seconds: Jira compares them at minute resolution.
    https://support.atlassian.com/jira-software-cloud/docs/jql-fields/#Updated
    """
    cleaned = text.strip().replace("/", "-")
    for fmt in ("%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            parsed = dt.datetime.strptime(cleaned, fmt).replace(tzinfo=_UTC)
        except ValueError:
            continue
        return int(parsed.timestamp() * 1000)
    return None


def rate_limit_reset(ms: int) -> str:
    """``X-RateLimit-Reset`` as Jira sends it: ISO-8601 to the minute, ``yyyy-MM-ddTHH:mmZ``."""
    return f"{_datetime(ms):%Y-%m-%dT%H:%MZ}"
