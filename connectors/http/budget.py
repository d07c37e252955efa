"""A client-side request budget: a hard cap per run and an optional pace per minute."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestBudget:
    """Limits we impose on ourselves, independently of the server's.

    ``max_requests`` caps a whole run (a runaway loop ends in ``BudgetExhausted`` instead of
    burning the tenant's quota). ``max_per_minute`` paces requests over a sliding 60 s window;
    exceeding it waits for the window to free up, because a pace is not a failure.
    """

    max_requests: int | None = None
    max_per_minute: int | None = None


class BudgetTracker:
    """Counts requests against a :class:`RequestBudget` (thread-safe)."""

    WINDOW_SECONDS = 60.0

    def __init__(self, budget: RequestBudget) -> None:
        self.budget = budget
        self._lock = threading.Lock()
        self._used = 0
        self._recent: deque[float] = deque()

    @property
    def used(self) -> int:
        return self._used

    def run_exhausted(self) -> bool:
        limit = self.budget.max_requests
        return limit is not None and self._used >= limit

    def pace_wait(self, now: float) -> float:
        """Seconds to wait before the next request fits the per-minute pace."""
        limit = self.budget.max_per_minute
        if limit is None:
            return 0.0
        with self._lock:
            while self._recent and now - self._recent[0] >= self.WINDOW_SECONDS:
                self._recent.popleft()
            if len(self._recent) < limit:
                return 0.0
            return self._recent[0] + self.WINDOW_SECONDS - now

    def record(self, now: float) -> None:
        with self._lock:
            self._used += 1
            if self.budget.max_per_minute is not None:
                self._recent.append(now)
