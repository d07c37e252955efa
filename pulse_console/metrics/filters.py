"""The scope of a metric query: client, period and optional project/team/type/repository,
release or goal (reference numbers; see `plans`).

Periods are half-open `[since, until)` in UTC: an event exactly at `until` belongs to the
next period, one exactly at `since` to this one. Naive datetimes are read as UTC.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any


def as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# The period a person sees when they name none: the Metrics screen's and the CLI's alike.
DEFAULT_PERIOD_DAYS = 90


@dataclass(frozen=True)
class MetricFilter:
    client_id: int
    since: datetime
    until: datetime
    project: str | None = None
    team: str | None = None  # custom_fields->>'Team'
    issue_type: str | None = None
    repository: str | None = None  # full_name, case-insensitive
    release: str | None = None  # releases.key: its items and the issues they link to
    goal: str | None = None  # goals.key (goal or initiative), likewise

    def __post_init__(self) -> None:
        object.__setattr__(self, "since", as_utc(self.since))
        object.__setattr__(self, "until", as_utc(self.until))
        if self.until <= self.since:
            raise ValueError(f"empty period: since {self.since} is not before until {self.until}")

    @classmethod
    def last_days(cls, client_id: int, days: int, *, now: datetime | None = None) -> MetricFilter:
        """The `days` whole UTC days before today (today excluded, so figures are stable)."""
        today = as_utc(now or datetime.now(UTC)).replace(hour=0, minute=0, second=0, microsecond=0)
        return cls(client_id, today - timedelta(days=days), today)

    def with_(self, **changes: Any) -> MetricFilter:
        return replace(self, **changes)

    def params(self) -> dict[str, Any]:
        """Bind parameters every metric statement understands."""
        return {
            "client_id": self.client_id,
            "since": self.since,
            "until": self.until,
            "project": self.project,
            "team": self.team,
            "issue_type": self.issue_type,
            "repository": self.repository,
            "release": self.release,
            "goal": self.goal,
        }
