"""When to retry, and how long to back off (exponential with full jitter)."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

RETRYABLE_STATUSES = frozenset({500, 502, 503, 504})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


@dataclass(frozen=True)
class RetryPolicy:
    """Backoff for transient failures: 5xx, timeouts and connection errors.

    Full jitter (delay drawn uniformly from ``[0, min(cap, base * 2**attempt)]``) spreads
    retries from many workers so they do not hit a recovering server in lock-step.
    ``max_attempts`` counts every try, so 5 means one request plus up to four retries.
    """

    max_attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0
    retry_statuses: frozenset[int] = RETRYABLE_STATUSES
    rng: Callable[[float, float], float] = field(default=random.uniform, compare=False)

    def backoff(self, attempt: int) -> float:
        """Delay before retry number ``attempt`` (1-based)."""
        ceiling = min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))
        return self.rng(0.0, ceiling)

    def can_retry(self, attempt: int) -> bool:
        """Whether another try is allowed after ``attempt`` tries."""
        return attempt < self.max_attempts


@dataclass(frozen=True)
class RateLimitPolicy:
    """How long we are willing to block on a server's "wait" signal.

    Waits up to ``max_wait_seconds`` are slept through (shown to the operator via the
    observer); longer ones raise ``RateLimited`` so the job can pause with a checkpoint instead
    of looking hung. ``max_consecutive_waits`` bounds a server that keeps answering 429 with
    short waits, so a misbehaving service still ends in a typed error rather than a loop.
    ``default_wait_seconds`` is used for a 429 with no timing header at all.
    """

    max_wait_seconds: float = 60.0
    max_consecutive_waits: int = 10
    default_wait_seconds: float = 10.0
