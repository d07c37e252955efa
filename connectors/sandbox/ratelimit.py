"""Fixed-window budgets: the building block of every simulated rate limit.

Jira (requests per window, 429 + ``Retry-After``/``X-RateLimit-*``) and GitHub (GraphQL
points per hour with ``x-ratelimit-*``; a secondary requests-per-minute limit answered
with 403/429 + ``retry-after``) both reduce to "spend units from a budget that refills at
the end of a window"; each simulator turns a ``Decision`` into its service's headers.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

Clock = Callable[[], float]  # seconds since the epoch


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    used: int
    reset_at: float  # epoch seconds when the window refills
    retry_after: int  # whole seconds until then (0 when allowed)

    @property
    def near_limit(self) -> bool:
        """Less than 20% of the budget left (Jira's ``X-RateLimit-NearLimit``)."""
        return self.remaining < self.limit * 0.2


class WindowBudget:
    def __init__(self, limit: int, window_seconds: float, clock: Clock = time.time) -> None:
        self.limit = limit
        self.window = window_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._window_start = clock()
        self._used = 0

    def _roll(self, now: float) -> None:
        if now >= self._window_start + self.window:
            periods = math.floor((now - self._window_start) / self.window)
            self._window_start += periods * self.window
            self._used = 0

    def consume(self, cost: int = 1) -> Decision:
        """Spend ``cost`` units if they are there; a refused request spends nothing."""
        with self._lock:
            now = self._clock()
            self._roll(now)
            reset_at = self._window_start + self.window
            allowed = self._used + cost <= self.limit
            if allowed:
                self._used += cost
            return Decision(
                allowed=allowed,
                limit=self.limit,
                remaining=max(0, self.limit - self._used),
                used=self._used,
                reset_at=reset_at,
                retry_after=0 if allowed else max(1, math.ceil(reset_at - now)),
            )

    def peek(self) -> Decision:
        return self.consume(0)
