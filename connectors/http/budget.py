"""A client-side request budget: a hard cap per run and optional paces per second and minute."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestBudget:
    """Limits we impose on ourselves, independently of the server's.

    ``max_requests`` caps a whole run (a runaway loop ends in ``BudgetExhausted`` instead of
    burning the tenant's quota). ``max_per_minute`` and ``max_per_second`` pace requests over
    sliding 60 s and 1 s windows; exceeding one waits for its window to free up, because a
    pace is not a failure. A sliding window at or under a server's fixed-window limit never
    exceeds it (Aha! allows 300 a minute and 20 a second: the client paces under both).
    """

    max_requests: int | None = None
    max_per_minute: int | None = None
    max_per_second: int | None = None


class _Window:
    """Send times inside one sliding window of ``seconds``."""

    def __init__(self, limit: int, seconds: float) -> None:
        self.limit = limit
        self.seconds = seconds
        self.recent: deque[float] = deque()

    def wait(self, now: float) -> float:
        while self.recent and now - self.recent[0] >= self.seconds:
            self.recent.popleft()
        if len(self.recent) < self.limit:
            return 0.0
        return self.recent[-self.limit] + self.seconds - now


class BudgetTracker:
    """Counts requests against a :class:`RequestBudget` (thread-safe)."""

    WINDOW_SECONDS = 60.0

    def __init__(self, budget: RequestBudget) -> None:
        self.budget = budget
        self._lock = threading.Lock()
        self._used = 0
        self._windows = [
            _Window(limit, seconds)
            for limit, seconds in (
                (budget.max_per_minute, self.WINDOW_SECONDS),
                (budget.max_per_second, 1.0),
            )
            if limit is not None
        ]

    @property
    def used(self) -> int:
        return self._used

    def run_exhausted(self) -> bool:
        limit = self.budget.max_requests
        return limit is not None and self._used >= limit

    def pace_wait(self, now: float) -> float:
        """Seconds to wait before the next request fits every pace."""
        with self._lock:
            return max((w.wait(now) for w in self._windows), default=0.0)

    def record(self, now: float) -> None:
        with self._lock:
            self._used += 1
            for window in self._windows:
                window.recent.append(now)
