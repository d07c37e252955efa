"""Small test doubles for the HTTP stack: a clock that never sleeps and scripted servers."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta

import httpx

Handler = Callable[[httpx.Request], httpx.Response]


class FakeClock:
    """Advances only when the code under test sleeps; records every sleep."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)
        self._mono = 1000.0
        self.sleeps: list[float] = []

    def now(self) -> datetime:
        return self._now

    def monotonic(self) -> float:
        return self._mono

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        self._now += timedelta(seconds=seconds)
        self._mono += seconds


class Script:
    """A transport handler answering with a fixed sequence, recording each request."""

    def __init__(self, answers: Iterable[httpx.Response | Exception | Handler]) -> None:
        self._answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if not self._answers:
            raise AssertionError(f"unexpected extra request {request.method} {request.url}")
        answer = self._answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        if isinstance(answer, httpx.Response):
            return answer
        return answer(request)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)


class Concurrency:
    """Counts the requests a handler holds at once; ``peak`` is the most seen."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.now = 0
        self.peak = 0

    def hold(self, seconds: float) -> None:
        """One request, held ``seconds`` (so others sent meanwhile overlap it)."""
        with self._lock:
            self.now += 1
            self.peak = max(self.peak, self.now)
        time.sleep(seconds)
        with self._lock:
            self.now -= 1
