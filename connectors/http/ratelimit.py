"""Reading rate-limit headers from Jira, GitHub, Azure DevOps and Aha!.

Sources:
- Jira Cloud: https://developer.atlassian.com/cloud/jira/platform/rate-limiting/ —
  ``Retry-After`` (seconds), ``X-RateLimit-Reset`` as ISO ``yyyy-MM-ddTHH:mmZ``,
  ``X-RateLimit-Remaining``, ``RateLimit-Reason``; 2026 points-based limits add
  ``Beta-Retry-After`` and ``X-Beta-RateLimit-Reset``.
- GitHub: https://docs.github.com/graphql/overview/rate-limits-and-node-limits-for-the-graphql-api
  — ``x-ratelimit-reset`` in UTC epoch seconds, ``x-ratelimit-remaining``, ``retry-after``.
- HTTP: RFC 9110 §10.2.3 — ``Retry-After`` is delay-seconds or an HTTP-date.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import httpx

_ISO_MINUTE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$")


@dataclass(frozen=True)
class RateLimitInfo:
    """What a response said about rate limiting (all fields optional)."""

    retry_after: float | None = None
    reset_at: datetime | None = None
    remaining: int | None = None
    limit: int | None = None
    reason: str | None = None

    def wait_seconds(self, now: datetime) -> float | None:
        """How long the server asked us to wait, preferring the explicit delay."""
        if self.retry_after is not None:
            return max(0.0, self.retry_after)
        if self.reset_at is not None:
            return max(0.0, (self.reset_at - now).total_seconds())
        return None

    def resolved_reset(self, now: datetime) -> datetime | None:
        """The instant the wait ends, computing it from ``retry_after`` when needed."""
        if self.reset_at is not None:
            return self.reset_at
        if self.retry_after is not None:
            return now + timedelta(seconds=self.retry_after)
        return None

    @property
    def exhausted(self) -> bool:
        return self.remaining is not None and self.remaining <= 0


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """``Retry-After``: delay-seconds or an HTTP-date, as seconds from ``now``."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def parse_reset(value: str | None) -> datetime | None:
    """``X-RateLimit-Reset``: Jira's ISO minute timestamp or GitHub's epoch seconds."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        # Epoch seconds (GitHub, Aha!, Azure DevOps). Values this large are never a delta.
        return datetime.fromtimestamp(int(text), tz=UTC)
    if _ISO_MINUTE.match(text):
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed.astimezone(UTC)
    return None


def _int_header(headers: httpx.Headers, name: str) -> int | None:
    value = headers.get(name)
    if value is None:
        return None
    try:
        return int(value.strip())
    except ValueError:
        return None


def parse_rate_limit(headers: httpx.Headers, now: datetime) -> RateLimitInfo:
    """Collect every rate-limit signal we know from one response's headers."""
    retry_after = parse_retry_after(headers.get("Retry-After"), now)
    beta_retry = parse_retry_after(headers.get("Beta-Retry-After"), now)
    if retry_after is None or (beta_retry is not None and beta_retry > retry_after):
        retry_after = beta_retry
    reset_at = parse_reset(headers.get("X-RateLimit-Reset"))
    beta_reset = parse_reset(headers.get("X-Beta-RateLimit-Reset"))
    if reset_at is None or (beta_reset is not None and beta_reset > reset_at):
        reset_at = beta_reset
    reason = (
        headers.get("RateLimit-Reason")
        or headers.get("X-Beta-RateLimit-Reason")
        or headers.get("X-RateLimit-Resource")
    )
    return RateLimitInfo(
        retry_after=retry_after,
        reset_at=reset_at,
        remaining=_int_header(headers, "X-RateLimit-Remaining"),
        limit=_int_header(headers, "X-RateLimit-Limit"),
        reason=reason,
    )
