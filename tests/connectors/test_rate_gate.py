"""The account's shared rate gate: chains back off together, 429s are counted, at most
``max_in_flight`` requests are out at once, and cancellation still wins."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from connectors.errors import Cancelled, RateLimited
from connectors.http import (
    BasicAuth,
    CancelToken,
    HttpClient,
    HttpConfig,
    RateLimitPolicy,
    Secret,
)
from connectors.http.client import (
    HTTPX_KEEPALIVE_CONNECTIONS,
    HTTPX_MAX_CONNECTIONS,
    connection_limits,
)
from connectors.http.gate import RateGate, gate_for
from tests.connectors.fakes import Concurrency, FakeClock, Script

BASE = "https://acme.atlassian.net"


def client(
    script: Script, gate: RateGate | None, clock: FakeClock, policy: RateLimitPolicy | None = None
) -> HttpClient:
    config = HttpConfig(
        base_url=BASE,
        source="jira",
        auth=BasicAuth("ada@example.com", Secret("t0ken-xyz")),
        rate_limit=policy or RateLimitPolicy(),
    )
    return HttpClient(config, transport=script.transport(), clock=clock, gate=gate)


def test_chains_sharing_a_gate_wait_for_one_anothers_back_off() -> None:
    clock = FakeClock()
    gate = RateGate()
    # Chain one earns a 429 asking for 7 s, and pauses its run at once (no retries allowed).
    refused = Script([httpx.Response(429, headers={"Retry-After": "7"})])
    limited = client(refused, gate, clock, RateLimitPolicy(max_consecutive_waits=0))
    other = client(Script([httpx.Response(200)]), gate, clock)
    another_account = client(Script([httpx.Response(200)]), None, clock)
    start = clock.now()
    with pytest.raises(RateLimited):
        limited.request("GET", "/a")
    assert gate.limited == 1
    assert gate.paused_until == start + timedelta(seconds=7)

    other.request("GET", "/b")  # the same account: waits out the 7 s before asking
    assert clock.now() - start == timedelta(seconds=7)
    assert gate.waited == pytest.approx(7)
    another_account.request("GET", "/c")  # not held back by someone else's gate
    assert clock.now() - start == timedelta(seconds=7)


def test_a_back_off_longer_than_a_chain_would_wait_parks_that_chain_at_once() -> None:
    clock = FakeClock()
    gate = RateGate()
    # One chain is told to wait 600 s: more than the 60 s it sleeps through, so it parks.
    refused = Script([httpx.Response(429, headers={"Retry-After": "600"})])
    parked = client(refused, gate, clock, RateLimitPolicy(max_wait_seconds=60))
    waiting = client(
        Script([httpx.Response(200)]), gate, clock, RateLimitPolicy(max_wait_seconds=60)
    )
    start = clock.now()
    with pytest.raises(RateLimited):
        parked.request("GET", "/a")
    # The other chain of the account parks too, without sleeping and without asking.
    with pytest.raises(RateLimited) as other:
        waiting.request("GET", "/b")
    assert other.value.reset_at == start + timedelta(seconds=600)
    assert clock.now() == start
    # A chain that would sleep through 600 s waits it out and then asks.
    patient = client(
        Script([httpx.Response(200)]), gate, clock, RateLimitPolicy(max_wait_seconds=900)
    )
    patient.request("GET", "/c")
    assert clock.now() - start == timedelta(seconds=600)


def test_every_429_of_the_account_is_counted() -> None:
    clock = FakeClock()
    gate = RateGate()
    script = Script(
        [
            httpx.Response(429, headers={"Retry-After": "1"}),
            httpx.Response(429, headers={"Retry-After": "2"}),
            httpx.Response(200),
        ]
    )
    client(script, gate, clock).request("GET", "/a")
    assert gate.limited == 2
    assert gate.paused_until == datetime(2025, 3, 1, 12, 0, 3, tzinfo=UTC)


def test_at_most_max_in_flight_requests_are_out_at_once() -> None:
    gate = RateGate(max_in_flight=2)
    held = Concurrency()

    def handler(request: httpx.Request) -> httpx.Response:
        held.hold(0.05)
        return httpx.Response(200, json={})

    config = HttpConfig(base_url=BASE, source="jira")
    clients = [
        HttpClient(config, transport=httpx.MockTransport(handler), gate=gate) for _ in range(6)
    ]
    threads = [threading.Thread(target=c.request, args=("GET", "/x")) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert held.peak == 2


def test_a_chain_queued_for_a_slot_stops_when_cancelled() -> None:
    gate = RateGate(max_in_flight=1)
    assert gate.acquire()  # another chain holds the only slot
    cancel = CancelToken()
    script = Script([])
    config = HttpConfig(base_url=BASE, source="jira")
    c = HttpClient(config, transport=script.transport(), gate=gate, cancel=cancel)
    threading.Timer(0.1, cancel.cancel).start()
    with pytest.raises(Cancelled):
        c.request("GET", "/x")
    assert script.requests == []
    gate.release()


def test_one_gate_per_account() -> None:
    a = gate_for("jira", "https://one.example", "ada@example.com")
    assert gate_for("jira", "https://one.example", "ada@example.com") is a
    assert gate_for("jira", "https://two.example", "ada@example.com") is not a


def test_a_lane_pace_is_shared_by_every_chain_of_the_account() -> None:
    clock = FakeClock()
    gate = RateGate(
        per_minute={"graphql": 2},
        lane_of=lambda method, path: "graphql" if path.endswith("/graphql") else "rest",
    )
    chains = [client(Script([httpx.Response(200)] * 2), gate, clock) for _ in range(2)]
    start = clock.now()
    chains[0].request("POST", "/graphql")
    chains[1].request("POST", "/graphql")
    chains[1].request("GET", "/repos/a/b/actions/runs")  # another lane: not held back
    assert clock.now() == start
    chains[0].request("POST", "/graphql")  # the third query of the minute waits for it
    assert clock.now() - start == timedelta(seconds=60)


def test_a_per_second_pace_is_shared_by_every_chain_of_the_account() -> None:
    clock = FakeClock()
    gate = RateGate(per_minute={"all": 100}, per_second={"all": 3})
    chains = [client(Script([httpx.Response(200)] * 4), gate, clock) for _ in range(2)]
    start = clock.now()
    for chain in (chains[0], chains[1], chains[0]):
        chain.request("GET", "/x")
    assert clock.now() == start
    chains[1].request("GET", "/x")  # the fourth of the second waits for the next second
    assert timedelta(seconds=1) <= clock.now() - start < timedelta(seconds=1.3)


def test_an_adaptive_gate_halves_on_a_429_and_creeps_back_after_answered_rounds() -> None:
    gate = RateGate(max_in_flight=8, adaptive=True)
    now = datetime.now(UTC)
    gate.back_off(now + timedelta(seconds=2))
    assert gate.in_flight_limit == 4
    # The 429s of requests that were out with the first one: the same episode, halved once.
    gate.back_off(now + timedelta(seconds=2, milliseconds=30))
    assert gate.in_flight_limit == 4
    gate.back_off(now + timedelta(seconds=10))  # a later episode halves again
    assert gate.in_flight_limit == 2

    assert gate.acquire() and gate.acquire()
    assert not gate.acquire(cancel=lambda: True)  # the third waits: the limit holds
    gate.release()
    gate.release()  # one round of 2 answered: one more at once
    assert gate.in_flight_limit == 3
    for _ in range(3 + 4 + 5 + 6 + 7):
        assert gate.acquire()
        gate.release()
    assert gate.in_flight_limit == 8  # back at the ceiling, never above
    assert gate.limited == 3


def test_a_fixed_gate_keeps_its_limit_through_429s() -> None:
    gate = RateGate(max_in_flight=8)
    gate.back_off(datetime.now(UTC) + timedelta(seconds=1))
    assert gate.in_flight_limit == 8


def test_a_changed_ceiling_takes_effect_on_the_accounts_gate() -> None:
    from connectors.jira import jira_gate

    gate = jira_gate("https://three.example", "ada@example.com", 32)
    assert gate.adaptive and gate.in_flight_limit == 32
    assert jira_gate("https://three.example", "ada@example.com", 5) is gate
    assert gate.max_in_flight == gate.in_flight_limit == 5
    gate.back_off(datetime.now(UTC) + timedelta(seconds=1))  # slowed to 2 by a 429 ...
    jira_gate("https://three.example", "ada@example.com", 20)
    assert (gate.max_in_flight, gate.in_flight_limit) == (20, 2)  # ... creeps back from there


def test_a_client_keeps_as_many_connections_open_as_its_gate_lets_requests_out() -> None:
    wide = connection_limits(RateGate(64))
    assert wide.max_keepalive_connections == 64
    assert (wide.max_connections or 0) >= 64
    narrow = connection_limits(RateGate(2))
    assert narrow.max_keepalive_connections == HTTPX_KEEPALIVE_CONNECTIONS
    assert narrow.max_connections == HTTPX_MAX_CONNECTIONS
    assert connection_limits(None).max_keepalive_connections == HTTPX_KEEPALIVE_CONNECTIONS


def test_the_requests_a_chain_waits_on_keep_an_eighth_of_the_slots() -> None:
    gate = RateGate(16, first=lambda method, path: path.endswith("/search/jql"))
    others = [gate.acquire(path="/rest/dev-status/latest/issue/detail") for _ in range(14)]
    assert all(others)  # 16 - 16 // 8: the others' share is full

    refused = gate.acquire(cancel=lambda: True, path="/rest/dev-status/latest/issue/detail")
    searches = [gate.acquire(cancel=lambda: True, path="/rest/api/3/search/jql") for _ in range(3)]

    assert not refused
    assert searches == [True, True, False]  # the reserved two, then the gate is full
    gate.release()  # an answered search: its slot goes to the next search waiting first
    assert not gate.acquire(cancel=lambda: True, path="/rest/dev-status/latest/issue/detail")
    assert gate.acquire(cancel=lambda: True, path="/rest/api/3/search/jql")


def test_a_waiting_search_gets_the_next_free_slot_before_the_other_requests() -> None:
    gate = RateGate(8, first=lambda method, path: "search" in path)
    assert all(gate.acquire(path="/search") for _ in range(8))
    took: list[str] = []

    def ask(path: str) -> None:
        gate.acquire(path=path)
        took.append(path)

    waiting = [threading.Thread(target=ask, args=(p,)) for p in ("/dev", "/dev", "/search")]
    for thread in waiting:
        thread.start()
    threading.Event().wait(0.05)  # all three queued
    gate.release()
    waiting[2].join(timeout=5)
    assert took == ["/search"]
    for _ in range(3):  # the others may hold 7 of the 8
        gate.release()
    for thread in waiting:
        thread.join(timeout=5)
    assert sorted(took) == ["/dev", "/dev", "/search"]
