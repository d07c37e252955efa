"""Injectable time for the engine: production reads the system clock, tests move a fake one.

The engine only ever asks "what time is it?" (`Clock` is any zero-argument callable returning
an aware UTC datetime, the same shape as `RunContext.clock`). Waiting is the scheduler's job,
so a simulated day of ticks and retries runs in milliseconds by advancing a `FakeClock`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


class FakeClock:
    """A clock that only moves when told to (thread-safe)."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FakeClock needs an aware datetime")
        self._now = start
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, delta: timedelta) -> datetime:
        with self._lock:
            self._now += delta
            return self._now

    def set(self, when: datetime) -> None:
        with self._lock:
            if when < self._now:
                raise ValueError("time does not go backwards")
            self._now = when
