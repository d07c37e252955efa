"""The link between a sync and its window processes: calls both ways, errors carried
intact, the rate gate seen through it, and slots a lost process held given back."""

from __future__ import annotations

import multiprocessing
import threading
from datetime import UTC, datetime, timedelta

import pytest

from connectors.errors import RateLimited
from connectors.http.cancel import CancelToken
from connectors.http.gate import RateGate
from pulse_console.pipelines.process_link import (
    GateHost,
    ProcessLink,
    RemoteGate,
    pack_error,
    unpack_error,
)


def linked(handlers: dict[str, object]) -> tuple[ProcessLink, ProcessLink]:
    """Two ends over a real pipe (in one process: the pipe is what is under test)."""
    a, b = multiprocessing.Pipe()
    return ProcessLink(a, {}, name="a"), ProcessLink(
        b, handlers, blocking=frozenset({"acquire"}), name="b"
    )  # type: ignore[arg-type]


def test_an_error_crosses_with_its_keyword_only_attributes() -> None:
    reset = datetime(2026, 12, 5, 8, 0, tzinfo=UTC)
    error = RateLimited("wait", reset_at=reset, retry_after=30.0, source="jira")

    back = unpack_error(pack_error(error))

    assert isinstance(back, RateLimited)
    assert (back.reset_at, back.retry_after, back.source, str(back)) == (
        reset,
        30.0,
        "jira",
        str(error),
    )


def test_a_call_returns_the_other_ends_answer_or_raises_its_error() -> None:
    def fail() -> None:
        raise RateLimited("slow down", reset_at=None, retry_after=1.0, source="jira")

    caller, _ = linked({"add": lambda x, y: x + y, "fail": fail})

    assert caller.call("add", 2, 3) == 5
    with pytest.raises(RateLimited, match="slow down") as raised:
        caller.call("fail")
    assert raised.value.retry_after == 1.0


def test_the_remote_gate_takes_and_returns_the_hosts_slots_and_backs_off_there() -> None:
    gate = RateGate(2)
    host = GateHost(gate, CancelToken())
    caller, _ = linked(host.handlers())
    remote = RemoteGate(caller, 2, CancelToken())

    assert remote.acquire() and remote.acquire()
    assert not gate.acquire(max_wait=0, cancel=lambda: True)  # both of the host's slots taken
    remote.release()
    until = datetime.now(UTC) + timedelta(seconds=30)
    remote.back_off(until)
    remote.release()
    for _ in range(100):  # notifications are not waited for
        if gate.paused_until == until and gate.limited == 1:
            break
        threading.Event().wait(0.01)
    assert gate.paused_until == until and gate.limited == 1


def test_a_cancelled_run_refuses_the_slot_and_stops_the_process() -> None:
    cancel, stop = CancelToken(), CancelToken()
    caller, _ = linked(GateHost(RateGate(1), cancel).handlers())
    remote = RemoteGate(caller, 1, stop)
    cancel.cancel()

    assert not remote.acquire()
    assert stop.cancelled  # the process's own requests stop before they are sent


def test_slots_a_lost_process_held_are_given_back() -> None:
    gate = RateGate(2)
    host = GateHost(gate, CancelToken())
    caller, _ = linked(host.handlers())
    remote = RemoteGate(caller, 2, CancelToken())
    assert remote.acquire() and remote.acquire()  # then the process dies holding both

    host.release_held()

    assert gate.acquire(max_wait=0) and gate.acquire(max_wait=0)
