"""The shared HTTP stack against scripted httpx transports (no sleeping, no network)."""

from __future__ import annotations

import base64
import logging
import ssl
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from connectors.errors import (
    AuthError,
    BadPayload,
    BudgetExhausted,
    Cancelled,
    NotFound,
    RateLimited,
    RequestRejected,
    TransportError,
)
from connectors.http import (
    BasicAuth,
    BearerAuth,
    CancelToken,
    HttpClient,
    HttpConfig,
    HttpEvent,
    RateLimitPolicy,
    RateLimitWait,
    RequestBudget,
    RetryPolicy,
    RetryScheduled,
    Secret,
)
from connectors.http.tls import tls_context
from tests.connectors.fakes import FakeClock, Script

TOKEN = "tok-SUPER-secret-0123456789"
BASE = "https://acme.atlassian.net"


def ok(body: object = None, **headers: str) -> httpx.Response:
    return httpx.Response(200, json=body if body is not None else {"ok": True}, headers=headers)


def status(code: int, body: object = None, **headers: str) -> httpx.Response:
    return httpx.Response(code, json=body if body is not None else {}, headers=headers)


def make_client(
    script: Script,
    clock: FakeClock | None = None,
    *,
    retry: RetryPolicy | None = None,
    rate_limit: RateLimitPolicy | None = None,
    budget: RequestBudget | None = None,
    auth: httpx.Auth | None = None,
    events: list[HttpEvent] | None = None,
) -> HttpClient:
    config = HttpConfig(
        base_url=BASE,
        source="jira",
        auth=auth or BasicAuth("ada@example.com", Secret(TOKEN)),
        # The upper bound of full jitter, so sleeps are predictable in assertions.
        retry=retry or RetryPolicy(max_attempts=4, base_delay=1.0, rng=lambda lo, hi: hi),
        rate_limit=rate_limit or RateLimitPolicy(max_wait_seconds=60.0),
        budget=budget or RequestBudget(),
    )
    return HttpClient(
        config,
        transport=script.transport(),
        clock=clock or FakeClock(),
        observer=events.append if events is not None else None,
    )


# -- retries -----------------------------------------------------------------------------


def test_transient_5xx_is_retried_with_growing_backoff_then_succeeds() -> None:
    clock = FakeClock()
    events: list[HttpEvent] = []
    script = Script([status(503), status(502), ok({"n": 1})])
    client = make_client(script, clock, events=events)

    assert client.get_json("/rest/api/3/myself") == {"n": 1}

    assert clock.sleeps == [1.0, 2.0]
    assert [type(e) for e in events] == [RetryScheduled, RetryScheduled]
    counters = client.counters()
    assert counters.requests == 3
    assert counters.retries == 2
    assert counters.by_status == {503: 1, 502: 1, 200: 1}
    assert counters.backoff_seconds == 3.0
    assert counters.bytes_received > 0


def test_full_jitter_draws_between_zero_and_the_capped_exponential() -> None:
    bounds: list[tuple[float, float]] = []

    def rng(lo: float, hi: float) -> float:
        bounds.append((lo, hi))
        return (lo + hi) / 2

    policy = RetryPolicy(base_delay=0.5, max_delay=3.0, rng=rng)
    assert [policy.backoff(n) for n in (1, 2, 3, 4, 5)] == [0.25, 0.5, 1.0, 1.5, 1.5]
    assert bounds == [(0.0, 0.5), (0.0, 1.0), (0.0, 2.0), (0.0, 3.0), (0.0, 3.0)]


def test_retries_exhausted_raise_transport_error_with_last_status() -> None:
    script = Script([status(500)] * 4)
    client = make_client(script)

    with pytest.raises(TransportError) as caught:
        client.get_json("/rest/api/3/project/search")

    assert caught.value.attempts == 4
    assert caught.value.last_status == 500
    assert caught.value.title == "Service unreachable"
    assert len(script.requests) == 4


def test_connection_errors_and_timeouts_are_retried() -> None:
    script = Script([httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), ok({"done": True})])
    client = make_client(script)

    assert client.get_json("/x") == {"done": True}
    assert client.counters().transport_errors == 2
    assert client.counters().retries == 2


def test_timeouts_that_never_end_become_transport_error() -> None:
    script = Script([httpx.ReadTimeout("slow")] * 4)
    client = make_client(script)

    with pytest.raises(TransportError) as caught:
        client.get_json("/x")
    assert caught.value.attempts == 4
    assert "ReadTimeout" in caught.value.message


def test_post_is_not_retried_unless_marked_retry_safe() -> None:
    client = make_client(Script([status(503)]))
    with pytest.raises(TransportError):
        client.post_json("/rest/api/3/issue", {"fields": {}})

    script = Script([status(503), ok({"issues": []})])
    client = make_client(script)
    assert client.post_json("/rest/api/3/search/jql", {"jql": "x"}, retry_safe=True) == {
        "issues": []
    }
    assert len(script.requests) == 2


def test_503_retry_after_stretches_the_backoff() -> None:
    clock = FakeClock()
    client = make_client(Script([status(503, **{"Retry-After": "7"}), ok()]), clock)
    client.get_json("/x")
    assert clock.sleeps == [7.0]


# -- rate limits -------------------------------------------------------------------------


def test_short_retry_after_is_slept_through_and_reported() -> None:
    clock = FakeClock()
    events: list[HttpEvent] = []
    script = Script([status(429, **{"Retry-After": "5"}), ok({"v": 2})])
    client = make_client(script, clock, events=events)

    assert client.get_json("/rest/api/3/status") == {"v": 2}

    assert clock.sleeps == [5.0]
    (event,) = events
    assert isinstance(event, RateLimitWait)
    assert event.seconds == 5.0
    assert event.reset_at == datetime(2025, 3, 1, 12, 0, 5, tzinfo=UTC)
    assert event.source == "jira"
    counters = client.counters()
    assert counters.rate_limit_waits == 1
    assert counters.rate_limit_seconds == 5.0
    assert counters.retries == 0


def test_long_retry_after_raises_rate_limited_with_reset_time() -> None:
    clock = FakeClock()
    script = Script([status(429, **{"Retry-After": "900", "RateLimit-Reason": "jira-quota-based"})])
    client = make_client(script, clock)

    with pytest.raises(RateLimited) as caught:
        client.get_json("/rest/api/3/search/jql")

    error = caught.value
    assert error.retry_after == 900
    assert error.reset_at == clock.now() + timedelta(seconds=900)
    assert error.source == "jira"
    assert "12:15:00" in error.message
    assert "jira-quota-based" in error.message
    assert clock.sleeps == []


def test_retry_after_as_http_date() -> None:
    clock = FakeClock()
    client = make_client(
        Script([status(429, **{"Retry-After": "Sat, 01 Mar 2025 12:00:30 GMT"}), ok()]), clock
    )
    client.get_json("/x")
    assert clock.sleeps == [30.0]


def test_jira_iso_reset_header_sets_the_wait() -> None:
    clock = FakeClock(datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC))
    client = make_client(
        Script([status(429, **{"X-RateLimit-Reset": "2025-03-01T12:01Z"}), ok()]), clock
    )
    client.get_json("/x")
    assert clock.sleeps == [60.0]


def test_github_epoch_reset_with_no_remaining_on_403_is_a_rate_limit() -> None:
    clock = FakeClock()
    reset = int((clock.now() + timedelta(hours=1)).timestamp())
    script = Script(
        [
            status(
                403,
                {"message": "API rate limit exceeded"},
                **{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset)},
            )
        ]
    )
    client = make_client(script, clock)

    with pytest.raises(RateLimited) as caught:
        client.get_json("/graphql")
    assert caught.value.reset_at == datetime.fromtimestamp(reset, tz=UTC)


def test_beta_retry_after_is_honoured() -> None:
    clock = FakeClock()
    client = make_client(Script([status(429, **{"Beta-Retry-After": "12"}), ok()]), clock)
    client.get_json("/x")
    assert clock.sleeps == [12.0]


def test_429_without_timing_headers_uses_the_default_wait() -> None:
    clock = FakeClock()
    client = make_client(
        Script([status(429), ok()]),
        clock,
        rate_limit=RateLimitPolicy(default_wait_seconds=3.0),
    )
    client.get_json("/x")
    assert clock.sleeps == [3.0]


def test_endless_short_429s_end_in_rate_limited_not_a_loop() -> None:
    script = Script([status(429, **{"Retry-After": "1"})] * 4)
    client = make_client(script, rate_limit=RateLimitPolicy(max_consecutive_waits=3))
    with pytest.raises(RateLimited):
        client.get_json("/x")
    assert len(script.requests) == 4


def test_zero_remaining_waits_before_the_next_request_instead_of_earning_a_429() -> None:
    clock = FakeClock(datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC))
    reset = int((clock.now() + timedelta(seconds=20)).timestamp())
    script = Script(
        [ok({"a": 1}, **{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset)}), ok()]
    )
    client = make_client(script, clock)
    client.get_json("/a")
    assert clock.sleeps == []
    client.get_json("/b")
    assert clock.sleeps == [20.0]


# -- budget and cancellation -------------------------------------------------------------


def test_run_budget_exhaustion_raises_before_sending() -> None:
    script = Script([ok(), ok()])
    client = make_client(script, budget=RequestBudget(max_requests=2))
    client.get_json("/1")
    client.get_json("/2")
    with pytest.raises(BudgetExhausted) as caught:
        client.get_json("/3")
    assert caught.value.limit == 2
    assert len(script.requests) == 2


def test_per_minute_budget_paces_instead_of_failing() -> None:
    clock = FakeClock()
    events: list[HttpEvent] = []
    client = make_client(
        Script([ok(), ok(), ok()]), clock, budget=RequestBudget(max_per_minute=2), events=events
    )
    client.get_json("/1")
    clock.advance(10)
    client.get_json("/2")
    client.get_json("/3")
    assert clock.sleeps == [50.0]
    assert isinstance(events[0], RateLimitWait)
    assert events[0].reason == "client request budget"


def test_cancel_is_checked_before_every_request() -> None:
    token = CancelToken()
    script = Script([ok()])
    client = make_client(script)
    client.cancel = token
    client.get_json("/1")
    token.cancel()
    with pytest.raises(Cancelled):
        client.get_json("/2")
    assert len(script.requests) == 1


def test_cancel_during_a_wait_stops_before_the_retry() -> None:
    token = CancelToken()
    clock = FakeClock()

    class CancellingClock(FakeClock):
        def sleep(self, seconds: float) -> None:
            super().sleep(seconds)
            token.cancel()

    clock = CancellingClock()
    script = Script([status(429, **{"Retry-After": "5"}), ok()])
    client = make_client(script, clock)
    client.cancel = token
    with pytest.raises(Cancelled):
        client.get_json("/x")
    assert len(script.requests) == 1


def test_a_broken_observer_does_not_break_the_request() -> None:
    def explode(event: HttpEvent) -> None:
        raise RuntimeError("observer bug")

    client = make_client(Script([status(429, **{"Retry-After": "1"}), ok({"v": 1})]))
    client.observer = explode
    assert client.get_json("/x") == {"v": 1}


# -- status errors -----------------------------------------------------------------------


def test_401_is_an_auth_error_with_operator_text() -> None:
    client = make_client(Script([status(401, {"errorMessages": ["Unauthorized"]})]))
    with pytest.raises(AuthError) as caught:
        client.get_json("/rest/api/3/myself")
    assert caught.value.status == 401
    assert caught.value.title == "Authentication failed"
    assert "token" in caught.value.message


def test_403_without_rate_limit_headers_is_permission_denied() -> None:
    client = make_client(Script([status(403)]))
    with pytest.raises(AuthError) as caught:
        client.get_json("/rest/api/3/users/search")
    assert caught.value.title == "Permission denied"


def test_404_is_not_found_and_400_carries_server_messages() -> None:
    client = make_client(
        Script(
            [
                status(404),
                status(400, {"errorMessages": ["Unbounded JQL"], "errors": {"jql": "bad"}}),
            ]
        )
    )
    with pytest.raises(NotFound):
        client.get_json("/nope")
    with pytest.raises(RequestRejected) as caught:
        client.post_json("/rest/api/3/search/jql", {"jql": ""}, retry_safe=True)
    assert caught.value.server_messages == ("Unbounded JQL", "jql: bad")
    assert "Unbounded JQL" in caught.value.message


def test_non_json_body_is_bad_payload_carrying_the_raw_text() -> None:
    client = make_client(Script([httpx.Response(200, text="<html>maintenance</html>")]))
    with pytest.raises(BadPayload) as caught:
        client.get_json("/x")
    assert caught.value.raw == "<html>maintenance</html>"


def test_requests_to_another_origin_are_refused() -> None:
    client = make_client(Script([]))
    with pytest.raises(ValueError, match="another origin"):
        client.get_json("https://evil.example.com/steal")


# -- secrets -----------------------------------------------------------------------------


def test_basic_and_bearer_auth_are_sent_on_the_wire() -> None:
    script = Script([ok(), ok()])
    make_client(script).get_json("/a")
    expected = base64.b64encode(f"ada@example.com:{TOKEN}".encode()).decode()
    assert script.requests[0].headers["Authorization"] == f"Basic {expected}"
    script = Script([ok()])
    make_client(script, auth=BearerAuth(Secret(TOKEN))).get_json("/a")
    assert script.requests[0].headers["Authorization"] == f"Bearer {TOKEN}"


def test_the_token_never_appears_in_reprs_errors_or_logs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    encoded = base64.b64encode(f"ada@example.com:{TOKEN}".encode()).decode()
    script = Script(
        [
            status(503),
            status(429, **{"Retry-After": "1"}),
            status(401),
            status(429, **{"Retry-After": "999"}),
            httpx.Response(200, text="not json"),
            *[httpx.ConnectError("down")] * 4,
        ]
    )
    client = make_client(script)
    texts = [repr(client), repr(client.config), repr(client.config.auth), repr(Secret(TOKEN))]
    texts += [str(Secret(TOKEN)), f"{Secret(TOKEN)}"]
    for _ in range(4):
        with pytest.raises(Exception) as caught:
            client.get_json("/rest/api/3/myself")
        texts += [str(caught.value), repr(caught.value), caught.value.args[0]]
    texts.append(caplog.text)
    for text in texts:
        assert TOKEN not in text
        assert encoded not in text


def test_secret_cannot_be_pickled() -> None:
    import pickle

    with pytest.raises(TypeError):
        pickle.dumps(Secret(TOKEN))


def test_clients_share_one_verifying_tls_context() -> None:
    """Every client of a process uses the one TLS context (building one parses the CA
    bundle: ~40 ms each), and it still verifies servers' certificates and names."""
    config = HttpConfig(
        base_url=BASE, source="jira", auth=BasicAuth("a@example.com", Secret(TOKEN))
    )
    first, second = HttpClient(config), HttpClient(config)
    try:
        contexts = [c._client._transport._pool._ssl_context for c in (first, second)]  # type: ignore[attr-defined]
        assert contexts[0] is contexts[1] is tls_context()
        assert tls_context().verify_mode == ssl.CERT_REQUIRED
        assert tls_context().check_hostname
    finally:
        first.close()
        second.close()
