"""The windows runner: chains side by side, each in its order, errors stop them all."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator

import pytest

from pulse_console.pipelines.windows import SWITCH_INTERVAL_SECONDS, fetch_windows, window_scope


class Boom(Exception):
    pass


def test_chains_run_at_once_up_to_the_concurrency_and_keep_their_order() -> None:
    lock = threading.Lock()
    live = {"now": 0, "peak": 0}

    def chain(name: str) -> Iterator[str]:
        for n in range(3):
            with lock:
                live["now"] += 1
                live["peak"] = max(live["peak"], live["now"])
            time.sleep(0.03)  # a request's latency
            with lock:
                live["now"] -= 1
            yield f"{name}{n}"

    names = ["a", "b", "c", "d", "e", "f"]
    chains = [lambda name=name: chain(name) for name in names]
    start = time.monotonic()
    with fetch_windows(chains, concurrency=3) as fetched:
        got = list(fetched)
    seconds = time.monotonic() - start
    assert live["peak"] == 3
    assert sorted(b for _, b in got) == sorted(f"{n}{i}" for n in names for i in range(3))
    for index, name in enumerate(names):
        assert [b for i, b in got if i == index] == [f"{name}0", f"{name}1", f"{name}2"]
    assert seconds < 18 * 0.03  # not one after the other


def test_an_error_reaches_the_consumer_and_stops_the_other_chains() -> None:
    produced: list[str] = []

    def failing() -> Iterator[str]:
        yield "x0"
        raise Boom("refused")

    def endless() -> Iterator[str]:
        n = 0
        while True:
            produced.append(f"y{n}")
            yield f"y{n}"
            n += 1
            time.sleep(0.01)

    got: list[str] = []
    with pytest.raises(Boom), fetch_windows([failing, endless], concurrency=2) as fetched:
        for _, batch in fetched:
            got.append(batch)
            time.sleep(0.01)
    assert "x0" in got
    settled = len(produced)
    time.sleep(0.1)
    assert len(produced) == settled  # joined: nothing runs after the runner returned


def test_no_chains_no_batches() -> None:
    with fetch_windows([], concurrency=4) as fetched:
        assert list(fetched) == []


def test_window_scopes() -> None:
    assert window_scope("jira:issues", 3) == "jira:issues:w3"


def test_the_switch_interval_is_short_while_chains_run_and_restored_after() -> None:
    """The writer wins the GIL back sooner after each database wait while chains parse;
    nested runs keep it short until the last one leaves, even when it fails."""
    before = sys.getswitchinterval()
    seen: list[float] = []

    def chain() -> Iterator[int]:
        seen.append(sys.getswitchinterval())
        yield 1

    with fetch_windows([chain], concurrency=1) as outer:
        list(outer)
        with pytest.raises(Boom), fetch_windows([chain], concurrency=1) as inner:
            list(inner)
            raise Boom
        seen.append(sys.getswitchinterval())
    assert seen == [SWITCH_INTERVAL_SECONDS] * 3
    assert sys.getswitchinterval() == before
