"""fetch_ahead: the next batch is fetched while the caller works, never more than depth ahead."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from pulse_console.pipelines.overlap import fetch_ahead


class Boom(Exception):
    pass


def test_batches_arrive_in_order_and_the_fetcher_stays_at_most_depth_ahead() -> None:
    fetched: list[int] = []
    ahead: list[int] = []
    consumed: list[int] = []

    def batches() -> Iterator[int]:
        for n in range(20):
            fetched.append(n)
            yield n

    with fetch_ahead(batches(), depth=2) as items:
        for item in items:
            ahead.append(len(fetched) - len(consumed))
            consumed.append(item)
    assert consumed == list(range(20))
    # depth queued + the one being handed over + the one being fetched.
    assert max(ahead) <= 2 + 2


def test_a_fetch_error_reaches_the_caller_after_the_batches_before_it() -> None:
    def batches() -> Iterator[int]:
        yield 1
        yield 2
        raise Boom("page 3 refused")

    consumed: list[int] = []
    with pytest.raises(Boom), fetch_ahead(batches()) as items:
        for item in items:
            consumed.append(item)
    assert consumed == [1, 2]


def test_the_fetcher_stops_when_the_caller_leaves_early() -> None:
    produced: list[int] = []
    closed = threading.Event()

    def batches() -> Iterator[int]:
        try:
            for n in range(1000):
                produced.append(n)
                yield n
        finally:
            closed.set()

    with pytest.raises(Boom), fetch_ahead(batches(), depth=1) as items:
        for item in items:
            if item == 3:
                raise Boom("the load failed")
    assert closed.is_set()
    assert len(produced) <= 3 + 3
