"""The API budget as run stats record it, and how the console words it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pulse_console.services.rate_budget import RateBudget

NOW = datetime(2026, 1, 15, 9, 30, tzinfo=UTC)


def test_budget_is_read_from_the_github_run_stats() -> None:
    stats = {
        "points_remaining": 4870,
        "points_limit": 5000,
        "points_reset_at": "2026-01-15T10:00:00+00:00",
    }
    budget = RateBudget.from_stats(stats)
    assert budget == RateBudget(4870, 5000, datetime(2026, 1, 15, 10, tzinfo=UTC))
    assert budget.describe(NOW) == "4,870/5,000 points left · resets 10:00 UTC"
    assert not budget.low(NOW)


def test_sources_without_a_budget_and_bad_values_give_none_or_less() -> None:
    assert RateBudget.from_stats({"issues": 60}) is None
    assert RateBudget.from_stats({"points_remaining": None}) is None
    budget = RateBudget.from_stats({"points_remaining": 12, "points_reset_at": "soon"})
    assert budget == RateBudget(12)
    assert budget.describe(NOW) == "12 points left"
    assert not budget.low(NOW)  # no limit known: nothing to compare with


def test_a_low_budget_warns_until_its_reset_has_passed() -> None:
    budget = RateBudget(300, 5000, NOW + timedelta(minutes=5))
    assert budget.low(NOW)
    later = NOW + timedelta(minutes=6)
    assert not budget.low(later)
    assert budget.describe(later) == "refilled at 09:35 UTC (300/5,000 points were left)"
