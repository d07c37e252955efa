"""The GraphQL point budget across one or more tokens, used in turn.

GitHub gives each token (user) its own hourly budget of points
(https://docs.github.com/graphql/overview/rate-limits-and-node-limits-for-the-graphql-api):
5,000 for a personal token, more for Apps and Enterprise Cloud. Each answer tells us what is
left (``rateLimit { remaining resetAt }`` and ``x-ratelimit-*``). The pool rotates through the
tokens, skipping one that cannot afford the next call until its window resets.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass
class TokenBudget(Generic[T]):
    """What we know about one token's budget (``None``: not yet known)."""

    index: int
    handle: T
    remaining: int | None = None
    limit: int | None = None
    reset_at: datetime | None = None
    points_used: int = 0
    calls: int = 0

    def can_afford(self, points: int, reserve: int, now: datetime) -> bool:
        if self.remaining is None:
            return True
        if self.reset_at is not None and self.reset_at <= now:
            return True  # the window rolled over since we last heard
        return self.remaining - reserve >= points

    def known_remaining(self, now: datetime) -> int | None:
        if self.remaining is None:
            return None
        if self.reset_at is not None and self.reset_at <= now:
            return self.limit
        return self.remaining


@dataclass(frozen=True)
class BudgetSnapshot:
    """For the console: what is left, of how much, and when it refills."""

    remaining: int | None
    limit: int | None
    reset_at: datetime | None
    points_used: int
    tokens: int


class TokenPool(Generic[T]):
    def __init__(self, handles: list[T], *, reserve: int = 0) -> None:
        if not handles:
            raise ValueError("at least one token is needed")
        self.tokens = [TokenBudget(i, h) for i, h in enumerate(handles)]
        self.reserve = reserve
        self._next = 0
        self._lock = threading.Lock()

    def choose(self, points: int, now: datetime) -> TokenBudget[T] | None:
        """The next token in turn that can afford ``points``, or None if none can."""
        with self._lock:
            n = len(self.tokens)
            for step in range(n):
                token = self.tokens[(self._next + step) % n]
                if token.can_afford(points, self.reserve, now):
                    self._next = (token.index + 1) % n
                    return token
            return None

    def earliest_reset(self) -> datetime | None:
        resets = [t.reset_at for t in self.tokens if t.reset_at is not None]
        return min(resets) if resets else None

    def best_remaining(self, now: datetime) -> int | None:
        known = [t.known_remaining(now) for t in self.tokens]
        if any(k is None for k in known):
            return None
        return max(k for k in known if k is not None)

    def record(
        self,
        token: TokenBudget[T],
        *,
        remaining: int | None,
        limit: int | None,
        reset_at: datetime | None,
        cost: int = 0,
    ) -> None:
        with self._lock:
            if remaining is not None:
                token.remaining = remaining
            if limit is not None:
                token.limit = limit
            if reset_at is not None:
                token.reset_at = reset_at
            token.points_used += cost
            token.calls += 1

    def exhaust(self, token: TokenBudget[T], reset_at: datetime | None) -> None:
        with self._lock:
            token.remaining = 0
            if reset_at is not None:
                token.reset_at = reset_at

    def snapshot(self, now: datetime) -> BudgetSnapshot:
        remaining = [t.known_remaining(now) for t in self.tokens]
        known = [r for r in remaining if r is not None]
        limits = [t.limit for t in self.tokens if t.limit is not None]
        return BudgetSnapshot(
            remaining=sum(known) if known else None,
            limit=sum(limits) if limits else None,
            reset_at=self.earliest_reset(),
            points_used=sum(t.points_used for t in self.tokens),
            tokens=len(self.tokens),
        )
