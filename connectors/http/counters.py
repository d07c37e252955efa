"""Request counters a job reports at the end of a run (and live, in the console)."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field


@dataclass(frozen=True)
class HttpCounters:
    """An immutable snapshot of one client's activity."""

    requests: int = 0
    retries: int = 0
    bytes_received: int = 0
    rate_limit_waits: int = 0
    rate_limit_seconds: float = 0.0
    backoff_seconds: float = 0.0
    transport_errors: int = 0
    by_status: dict[int, int] = field(default_factory=dict)

    def __add__(self, other: HttpCounters) -> HttpCounters:
        merged = Counter(self.by_status)
        merged.update(other.by_status)
        return HttpCounters(
            requests=self.requests + other.requests,
            retries=self.retries + other.retries,
            bytes_received=self.bytes_received + other.bytes_received,
            rate_limit_waits=self.rate_limit_waits + other.rate_limit_waits,
            rate_limit_seconds=self.rate_limit_seconds + other.rate_limit_seconds,
            backoff_seconds=self.backoff_seconds + other.backoff_seconds,
            transport_errors=self.transport_errors + other.transport_errors,
            by_status=dict(merged),
        )


class CounterSet:
    """The live, thread-safe counters behind :class:`HttpCounters` snapshots."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests = 0
        self._retries = 0
        self._bytes = 0
        self._waits = 0
        self._wait_seconds = 0.0
        self._backoff_seconds = 0.0
        self._transport_errors = 0
        self._by_status: Counter[int] = Counter()

    def request_sent(self) -> None:
        with self._lock:
            self._requests += 1

    def response(self, status: int, size: int) -> None:
        with self._lock:
            self._by_status[status] += 1
            self._bytes += size

    def transport_error(self) -> None:
        with self._lock:
            self._transport_errors += 1

    def retry(self, delay: float) -> None:
        with self._lock:
            self._retries += 1
            self._backoff_seconds += delay

    def rate_limit_wait(self, seconds: float) -> None:
        with self._lock:
            self._waits += 1
            self._wait_seconds += seconds

    def snapshot(self) -> HttpCounters:
        with self._lock:
            return HttpCounters(
                requests=self._requests,
                retries=self._retries,
                bytes_received=self._bytes,
                rate_limit_waits=self._waits,
                rate_limit_seconds=self._wait_seconds,
                backoff_seconds=self._backoff_seconds,
                transport_errors=self._transport_errors,
                by_status=dict(self._by_status),
            )
