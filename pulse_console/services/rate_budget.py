"""A source's API budget (GitHub GraphQL points): read from run stats, said in words.

The GitHub pipeline reports its budget twice: live in every progress report, and at the end
of a run in the run's stats (`points_remaining`, `points_limit`, `points_reset_at`). The Jobs
panel, the Run history detail and the Health screen all show it the same way, from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

LOW_SHARE = 0.1  # below a tenth of the limit the budget is worth a warning


@dataclass(frozen=True)
class RateBudget:
    """What is left of a source's API budget, as last reported."""

    remaining: int
    limit: int | None = None
    reset_at: datetime | None = None

    @classmethod
    def from_stats(cls, stats: dict[str, Any]) -> RateBudget | None:
        """The budget a run's stats recorded, or None (a source without one, e.g. Jira)."""
        remaining = stats.get("points_remaining")
        if not isinstance(remaining, int):
            return None
        limit = stats.get("points_limit")
        reset = stats.get("points_reset_at")
        try:
            reset_at = datetime.fromisoformat(reset) if isinstance(reset, str) else None
        except ValueError:
            reset_at = None
        return cls(remaining, limit if isinstance(limit, int) else None, reset_at)

    def low(self, now: datetime) -> bool:
        """Under a tenth of the limit, and not refilled since it was reported."""
        refilled = self.reset_at is not None and self.reset_at <= now
        return self.limit is not None and self.remaining < self.limit * LOW_SHARE and not refilled

    def describe(self, now: datetime) -> str:
        """E.g. `4,870/5,000 points left · resets 10:00 UTC` (or, once past the reset,
        `refilled at 10:00 UTC (4,870/5,000 points were left)`)."""
        left = f"{self.remaining:,}" + (f"/{self.limit:,}" if self.limit is not None else "")
        if self.reset_at is None:
            return f"{left} points left"
        at = self.reset_at.astimezone(UTC).strftime("%H:%M")
        if self.reset_at <= now:
            return f"refilled at {at} UTC ({left} points were left)"
        return f"{left} points left · resets {at} UTC"
