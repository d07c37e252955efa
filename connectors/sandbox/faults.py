"""Fault injection: a scenario says what goes wrong, an injector makes it happen and counts.

A scenario (pydantic; load it from TOML or JSON with ``FaultScenario.load``) may inject
latency, bursts of 5xx, timeouts, connection resets, truncated or malformed JSON bodies, a
rate limit after N requests per window, and changes to the organisation after N requests.
Every injected fault is counted in ``FaultCounters``. Choices come from an RNG seeded by the
scenario, drawn in request order, so a sequential client sees the same faults every run.

Simulators call ``FaultInjector.run(request, route, ...)``; the service-specific parts (what
a 429 or a 503 looks like) are passed in, so the GitHub simulator reuses all of this.
"""

from __future__ import annotations

import json
import random
import threading
import time
import tomllib
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx
from pydantic import BaseModel, ConfigDict, Field

from connectors.sandbox.mutations import MutationPlan
from connectors.sandbox.ratelimit import Clock, Decision, WindowBudget
from connectors.sandbox.seeding import STREAM_FAULTS, mix64


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Trigger(_Model):
    """When a fault fires: every Nth request, and/or at random with a probability."""

    every: int | None = Field(default=None, ge=1)
    probability: float = Field(default=0.0, ge=0.0, le=1.0)


class Latency(_Model):
    fixed_ms: float = Field(default=0.0, ge=0)
    jitter_ms: float = Field(default=0.0, ge=0)


class ErrorBursts(Trigger):
    """A fired trigger starts a burst: ``length`` consecutive requests get ``status``."""

    length: int = Field(default=1, ge=1)
    status: int = Field(default=503, ge=500, le=599)
    retry_after: int | None = None
    # A request (method and URL) that has failed this many times in a row is let through.
    # Concurrent clients share the request count, so without it one request's retries can
    # keep landing in later bursts; with it, a client that retries more often always wins.
    per_request: int | None = Field(default=None, ge=1)


class Timeouts(Trigger):
    """The server accepts the request and never answers; it drops the connection after
    ``hang_seconds`` (in-process the transport raises ``httpx.ReadTimeout`` at once)."""

    hang_seconds: float = Field(default=30.0, ge=0)


class EchoAuth(Trigger):
    """A hostile or careless server: answer ``status`` with the request's Authorization
    header quoted in the body (JSON error or an HTML page), as some proxies do."""

    status: int = Field(default=401, ge=400, le=599)
    html: bool = False


class RateLimit(_Model):
    after_requests: int = Field(ge=0)
    window_seconds: float = Field(default=60.0, gt=0)


class ScheduledMutation(_Model):
    after_requests: int = Field(ge=0)
    plan: MutationPlan


class FaultScenario(_Model):
    seed: int = 0
    # Only requests whose path starts with one of these are faulted (empty: all requests).
    paths: list[str] = Field(default_factory=list)
    latency: Latency = Field(default_factory=Latency)
    errors: ErrorBursts = Field(default_factory=ErrorBursts)
    timeouts: Timeouts = Field(default_factory=Timeouts)
    resets: Trigger = Field(default_factory=Trigger)
    truncated: Trigger = Field(default_factory=Trigger)
    malformed: Trigger = Field(default_factory=Trigger)
    echo_auth: EchoAuth = Field(default_factory=EchoAuth)
    rate_limit: RateLimit | None = None
    mutations: list[ScheduledMutation] = Field(default_factory=list)

    @classmethod
    def load(cls, path: str | Path) -> FaultScenario:
        """Read a scenario from a ``.toml`` or ``.json`` file."""
        p = Path(path)
        text = p.read_text(encoding="utf-8")
        data = tomllib.loads(text) if p.suffix.lower() == ".toml" else json.loads(text)
        return cls.model_validate(data)


@dataclass
class FaultCounters:
    """How many requests were seen and how many of each fault was injected."""

    requests: int = 0
    latency: int = 0
    errors: int = 0
    timeouts: int = 0
    resets: int = 0
    truncated: int = 0
    malformed: int = 0
    echoed_auth: int = 0
    rate_limited: int = 0
    mutations: int = 0

    def snapshot(self) -> dict[str, int]:
        return asdict(self)

    @property
    def injected(self) -> int:
        return sum(v for k, v in asdict(self).items() if k != "requests")


class InjectedTimeout(httpx.ReadTimeout):
    """Raised by a simulator to mean "never answer"; the socket server hangs then drops."""

    def __init__(self, request: httpx.Request, hang_seconds: float) -> None:
        super().__init__("Injected timeout: the server did not answer", request=request)
        self.hang_seconds = hang_seconds


class InjectedReset(httpx.ReadError):
    """Raised by a simulator to mean "reset the connection" (TCP RST on the socket server)."""

    def __init__(self, request: httpx.Request) -> None:
        super().__init__("Injected fault: connection reset by peer", request=request)


@dataclass(frozen=True, slots=True)
class _Plan:
    latency_s: float = 0.0
    timeout: bool = False
    reset: bool = False
    error_status: int | None = None
    truncate: bool = False
    malform: bool = False
    echo_auth: bool = False


Route = Callable[[httpx.Request], httpx.Response]
RateLimitedResponse = Callable[[httpx.Request, Decision], httpx.Response]
ErrorResponse = Callable[[httpx.Request, int, int | None], httpx.Response]


class FaultInjector:
    def __init__(
        self,
        scenario: FaultScenario | None = None,
        *,
        counters: FaultCounters | None = None,
        mutate: Callable[[MutationPlan], object] | None = None,
        clock: Clock = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.scenario = scenario or FaultScenario()
        self.counters = counters or FaultCounters()
        self._mutate = mutate
        self._sleep = sleep
        self._lock = threading.Lock()
        self._rng = random.Random(mix64(self.scenario.seed, STREAM_FAULTS, 0))
        self._burst_left = 0
        self._failed_in_a_row: dict[tuple[str, str], int] = {}
        self._pending_mutations = sorted(self.scenario.mutations, key=lambda m: m.after_requests)
        rl = self.scenario.rate_limit
        self.budget = WindowBudget(rl.after_requests, rl.window_seconds, clock) if rl else None

    def _fires(self, trigger: Trigger, n: int) -> bool:
        hit = trigger.every is not None and n % trigger.every == 0
        # Always draw, so one trigger's setting does not shift the others' random choices.
        return (self._rng.random() < trigger.probability) or hit

    def _plan(self, request: httpx.Request) -> _Plan:
        s = self.scenario
        with self._lock:
            self.counters.requests += 1
            n = self.counters.requests
            while self._pending_mutations and self._pending_mutations[0].after_requests < n:
                due = self._pending_mutations.pop(0)
                if self._mutate is not None:
                    self._mutate(due.plan)
                    self.counters.mutations += 1
            if s.paths and not any(request.url.path.startswith(p) for p in s.paths):
                return _Plan()
            latency = s.latency.fixed_ms + s.latency.jitter_ms * self._rng.random()
            timeout = self._fires(s.timeouts, n)
            reset = self._fires(s.resets, n)
            burst_starts = self._fires(s.errors, n)
            truncate = self._fires(s.truncated, n)
            malform = self._fires(s.malformed, n)
            echo = self._fires(s.echo_auth, n)
            error = None
            if self._burst_left > 0:
                self._burst_left -= 1
                error = s.errors.status
            elif burst_starts:
                self._burst_left = s.errors.length - 1
                error = s.errors.status
            error = self._limit_streak(request, error)
            return _Plan(latency / 1000.0, timeout, reset, error, truncate, malform, echo)

    def _limit_streak(self, request: httpx.Request, error: int | None) -> int | None:
        cap = self.scenario.errors.per_request
        if cap is None:
            return error
        key = (request.method, str(request.url))
        streak = self._failed_in_a_row.pop(key, 0)
        if error is None or streak >= cap:
            return None
        self._failed_in_a_row[key] = streak + 1
        return error

    def run(
        self,
        request: httpx.Request,
        route: Route,
        rate_limited: RateLimitedResponse,
        server_error: ErrorResponse,
    ) -> httpx.Response:
        """Serve ``request`` through ``route``, injecting whatever the scenario says."""
        plan = self._plan(request)
        if plan.latency_s > 0:
            self._count("latency")
            self._sleep(plan.latency_s)
        if plan.timeout:
            self._count("timeouts")
            raise InjectedTimeout(request, self.scenario.timeouts.hang_seconds)
        if plan.reset:
            self._count("resets")
            raise InjectedReset(request)
        if self.budget is not None:
            decision = self.budget.consume()
            if not decision.allowed:
                self._count("rate_limited")
                return rate_limited(request, decision)
        if plan.echo_auth:
            self._count("echoed_auth")
            return _echo_auth(request, self.scenario.echo_auth)
        if plan.error_status is not None:
            self._count("errors")
            return server_error(request, plan.error_status, self.scenario.errors.retry_after)
        response = route(request)
        if plan.truncate and response.content:
            self._count("truncated")
            return _with_body(response, response.content[: max(1, len(response.content) // 2)])
        if plan.malform and response.content:
            self._count("malformed")
            # Valid JSON text with a stray token appended: a parser must reject the body.
            return _with_body(response, response.content[:-1] + b",NaN}garbage")
        return response

    def _count(self, name: str) -> None:
        with self._lock:
            setattr(self.counters, name, getattr(self.counters, name) + 1)


def _with_body(response: httpx.Response, body: bytes) -> httpx.Response:
    headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
    return httpx.Response(response.status_code, content=body, headers=headers)


def _echo_auth(request: httpx.Request, fault: EchoAuth) -> httpx.Response:
    header = request.headers.get("Authorization", "")
    if fault.html:
        page = f"<html><body><h1>Error</h1><pre>Authorization: {header}</pre></body></html>"
        return httpx.Response(fault.status, text=page, headers={"Content-Type": "text/html"})
    body = {"message": f"bad request, you sent Authorization: {header}", "errorMessages": [header]}
    return httpx.Response(fault.status, json=body)
