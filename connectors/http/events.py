"""Events the HTTP stack reports to an optional observer (the job, then the console)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class RateLimitWait:
    """We are sleeping because the server (or our own pace budget) asked us to."""

    seconds: float
    reset_at: datetime
    source: str
    reason: str | None
    method: str
    path: str


@dataclass(frozen=True)
class RetryScheduled:
    """A transient failure; the request will be retried after ``delay`` seconds."""

    attempt: int
    delay: float
    cause: str
    method: str
    path: str


HttpEvent = RateLimitWait | RetryScheduled
Observer = Callable[[HttpEvent], None]
