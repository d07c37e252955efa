"""One rate budget per account, shared by every chain of requests that uses it.

A sync that runs several request chains at once (Jira windows, GitHub repositories) must
still look like one polite client to the server: the server limits the *account*, not the
chain. `RateGate` is that account's budget:

- **in flight**: at most ``max_in_flight`` requests are sent at once (GitHub: "No more than
  100 concurrent requests are allowed", shared by REST and GraphQL —
  https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api#about-secondary-rate-limits
  and https://docs.github.com/en/graphql/overview/rate-limits-and-node-limits-for-the-graphql-api#secondary-rate-limits;
  Jira Cloud counts requests per account and answers 429 when they come too fast —
  https://developer.atlassian.com/cloud/jira/platform/rate-limiting/);
- **back off together**: a 429 (or GitHub's rate-limit 403) seen by one chain pauses every
  chain until the time the server named, so the others do not earn 429s of their own by
  asking meanwhile (GitHub: "you should not try your request until after that time" and
  "make requests for a single user or client ID serially" — the secondary-limit guidance
  above; Atlassian: "back off … for all requests", the rate-limiting page above);
- **paced**: optionally at most ``per_minute[lane]`` requests a minute (and
  ``per_second[lane]`` a second) per lane, over sliding windows shared by every chain
  (GitHub: "No more than 900 points per minute are allowed for REST API endpoints, and no
  more than 2,000 points per minute are allowed for the GraphQL API endpoint", a query or GET
  being 1 point — the secondary-limit pages above; Aha!: 300 requests a minute and 20 a
  second per account — https://www.aha.io/api, "Rate limiting"; ``lane_of(method, path)``
  says which lane a request is in);
- **the chains' own requests first** (optional): where ``first(method, path)`` says a
  request is the one a chain waits on before it can go on (Jira: the next search page),
  ``1/RESERVED_SHARE`` of the slots are kept for such requests: the others (a page's
  per-issue calls, which pages fetched ahead absorb) never take the last ones, so a chain
  never queues behind them (measured: 150 ms latency, 4 windows, 32 in flight: a search
  waited 83 ms for a slot on average, a third of its round trip);
- **counted**: ``limited`` is the number of 429s the account earned, ``waited`` the seconds
  chains spent paused by the gate;
- **adaptive** (optional): where the server publishes no concurrency limit and signals its
  dynamic limits only with 429 + Retry-After (Jira Cloud: "limits are not published" and
  "back off … for all requests" — https://developer.atlassian.com/cloud/jira/platform/rate-limiting/),
  every 429 halves the requests sent at once (down to 1), and each full round of answered
  requests at the lowered limit lets one more out again, up to ``max_in_flight``
  (additive increase, multiplicative decrease: the account slows down as soon as the
  server says so and speeds up only as fast as the server keeps answering).

`gate_for` keeps one gate per account key (source, site, user) for the life of the process,
so two clients of the same account (a run's chains, two runs at once) share one budget.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from connectors.http.budget import BudgetTracker, RequestBudget
from connectors.http.cancel import CancelCheck, CancelToken
from connectors.http.clock import Clock, SystemClock

DEFAULT_MAX_IN_FLIGHT = 8
"""Requests one account sends at once unless told otherwise (GitHub allows 100)."""

_POLL_SECONDS = 0.25
"""How often a chain waiting on the gate looks at its cancel flag (without a CancelToken)."""


RESERVED_SHARE = 8
"""With ``first``, the other requests may hold all but ``limit // RESERVED_SHARE`` slots."""

_SAME_EPISODE = timedelta(seconds=1)
"""A 429 whose back-off ends within this of the pause already set belongs to the same
episode (requests that were out together): the adaptive limit is halved once for it."""


class PausedTooLong(Exception):
    """The account backs off for longer than the waiting request would sleep."""

    def __init__(self, until: datetime, seconds: float) -> None:
        super().__init__(f"backing off for {seconds:.0f} s")
        self.until = until
        self.seconds = seconds


class RateGate:
    """An account's shared budget (thread-safe); see the module docstring."""

    def __init__(
        self,
        max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
        *,
        per_minute: Mapping[str, int] | None = None,
        per_second: Mapping[str, int] | None = None,
        lane_of: Callable[[str, str], str] | None = None,
        adaptive: bool = False,
        first: Callable[[str, str], bool] | None = None,
    ) -> None:
        if max_in_flight < 1:
            raise ValueError("max_in_flight must be at least 1")
        self.max_in_flight = max_in_flight
        self.adaptive = adaptive
        self.lane_of = lane_of or (lambda method, path: "all")
        self.first = first
        minute, second = dict(per_minute or {}), dict(per_second or {})
        self._paces = {
            lane: BudgetTracker(
                RequestBudget(max_per_minute=minute.get(lane), max_per_second=second.get(lane))
            )
            for lane in {*minute, *second}
        }
        self._lock = threading.Lock()
        self._slot_freed = threading.Condition(self._lock)
        self._first_freed = threading.Condition(self._lock)  # for requests ``first``
        self._first_waiting = 0
        self._in_flight = 0
        self._limit = max_in_flight  # below max_in_flight after 429s when adaptive
        self._answered = 0  # requests released since the limit last changed
        self._paused_until: datetime | None = None
        self._limited = 0
        self._waited = 0.0

    # -- what chains call ------------------------------------------------------------------

    def acquire(
        self,
        cancel: CancelCheck | None = None,
        clock: Clock | None = None,
        *,
        method: str = "GET",
        path: str = "/",
        max_wait: float | None = None,
    ) -> bool:
        """Wait out a shared back-off and the request's lane pace, then take an in-flight
        slot; False when cancelled meanwhile (no slot taken). Every True is followed by one
        `release`. ``clock`` is the caller's (the one its back-off times were read with)."""
        clock = clock or SystemClock()
        self.wait_turn(cancel, clock, max_wait=max_wait)
        pace = self._paces.get(self.lane_of(method, path))
        while pace is not None:
            with self._lock:  # check and record at once: two chains never take one place
                wait = pace.pace_wait(clock.monotonic())
                if wait <= 0:
                    pace.record(clock.monotonic())
                    break
            if cancel is not None and cancel():
                return False
            self._sleep(min(wait, _POLL_SECONDS), cancel, clock)
        ahead = self.first is not None and self.first(method, path)
        while not self._take_slot(ahead):
            if cancel is not None and cancel():
                return False
        return True

    def _room(self, ahead: bool) -> bool:
        """A slot free for a request (``ahead``: one a chain waits on)."""
        reserved = 0 if ahead or self.first is None else self._limit // RESERVED_SHARE
        return self._in_flight < self._limit - reserved

    def _take_slot(self, ahead: bool = False) -> bool:
        """One in-flight slot, waiting up to `_POLL_SECONDS` for one to free."""
        with self._lock:
            if not self._room(ahead):
                if ahead:
                    self._first_waiting += 1
                    try:
                        self._first_freed.wait(_POLL_SECONDS)
                    finally:
                        self._first_waiting -= 1
                else:
                    self._slot_freed.wait(_POLL_SECONDS)
                if not self._room(ahead):
                    return False
            self._in_flight += 1
            return True

    def release(self) -> None:
        with self._lock:
            self._in_flight -= 1
            if self.adaptive and self._limit < self.max_in_flight:
                self._answered += 1
                if self._answered >= self._limit:  # a full round answered: one more at once
                    self._limit += 1
                    self._answered = 0
            if self._first_waiting:
                self._first_freed.notify()
            if self._room(False):
                self._slot_freed.notify()

    def set_max_in_flight(self, max_in_flight: int) -> None:
        """Change the account's ceiling (a person's setting, read at the start of a run);
        requests already out finish, later ones obey the new value."""
        if max_in_flight < 1:
            raise ValueError("max_in_flight must be at least 1")
        with self._slot_freed:
            slowed = self.adaptive and self._limit < self.max_in_flight
            self.max_in_flight = max_in_flight
            self._limit = min(self._limit, max_in_flight) if slowed else max_in_flight
            self._answered = 0
            self._slot_freed.notify_all()
            self._first_freed.notify_all()

    def wait_turn(
        self,
        cancel: CancelCheck | None = None,
        clock: Clock | None = None,
        *,
        max_wait: float | None = None,
    ) -> float:
        """Sleep while the account is backing off; → the seconds slept. A back-off longer
        than ``max_wait`` (what the caller would sleep through) raises `PausedTooLong` at
        once: one chain told to wait an hour parks the run, and the others with it, instead
        of holding their threads for that hour."""
        clock = clock or SystemClock()
        slept = 0.0
        while True:
            with self._lock:
                until = self._paused_until
            seconds = 0.0 if until is None else (until - clock.now()).total_seconds()
            if seconds <= 0 or (cancel is not None and cancel()):
                return slept
            if until is not None and max_wait is not None and seconds > max_wait:
                raise PausedTooLong(until, seconds)
            slept += self._sleep(min(seconds, _POLL_SECONDS), cancel, clock)

    def _sleep(self, seconds: float, cancel: CancelCheck | None, clock: Clock) -> float:
        """Sleep (waking on cancel when possible), counted in ``waited``; → seconds slept."""
        start = clock.monotonic()
        if isinstance(cancel, CancelToken) and isinstance(clock, SystemClock):
            cancel.wait(seconds)
        else:
            clock.sleep(seconds)
        spent = max(0.0, clock.monotonic() - start)
        with self._lock:
            self._waited += spent
        return spent

    def back_off(self, until: datetime, *, limited: bool = True) -> None:
        """Pause every chain until ``until``; ``limited`` counts it as a 429 from the server."""
        with self._lock:
            if limited:
                self._limited += 1
                if self.adaptive and (
                    self._paused_until is None or until > self._paused_until + _SAME_EPISODE
                ):  # the 429s of requests sent before the first one's answer: halved once
                    self._limit = max(1, self._limit // 2)
                    self._answered = 0
            if self._paused_until is None or until > self._paused_until:
                self._paused_until = until

    # -- what the console and benchmarks read ----------------------------------------------

    @property
    def limited(self) -> int:
        """429s (and rate-limit 403s) the account earned through this gate."""
        with self._lock:
            return self._limited

    @property
    def waited(self) -> float:
        """Seconds chains spent paused by another chain's back-off."""
        with self._lock:
            return self._waited

    @property
    def in_flight_limit(self) -> int:
        """Requests the account may send at once now (``max_in_flight`` unless adaptive and
        slowed down by 429s)."""
        with self._lock:
            return self._limit

    @property
    def paused_until(self) -> datetime | None:
        with self._lock:
            return self._paused_until


_gates: dict[tuple[str, ...], RateGate] = {}
_gates_lock = threading.Lock()


def gate_for(*account: str, make: Callable[[], RateGate] = RateGate) -> RateGate:
    """The process's one gate for ``account`` (e.g. ``("jira", base_url, email)``), made by
    ``make`` the first time."""
    with _gates_lock:
        gate = _gates.get(account)
        if gate is None:
            gate = _gates[account] = make()
        return gate


def forget_gates() -> None:
    """Forget every account's gate and its back-off (for tests, each of which stands for a
    process of its own; and for a test's "after the reset" step)."""
    with _gates_lock:
        _gates.clear()
