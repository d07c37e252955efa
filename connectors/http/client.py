"""The one HTTP client every connector uses.

A request goes through, in order: cancellation check → run budget → per-minute pace →
"remaining is 0" pre-wait → send → classify the answer (success, rate limit, transient,
permanent). Rate-limit waits up to ``RateLimitPolicy.max_wait_seconds`` are slept through
(interruptibly); longer ones raise :class:`RateLimited`. Transient failures are retried with
full-jitter backoff, but only for requests marked ``retry_safe`` (idempotent methods by
default; POST searches opt in explicitly).
"""

from __future__ import annotations

import json as jsonlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx

from connectors.closing import Closing
from connectors.errors import (
    AuthError,
    BadPayload,
    BudgetExhausted,
    Cancelled,
    HttpStatusError,
    NotFound,
    RateLimited,
    RequestRejected,
    TransportError,
)
from connectors.http.budget import BudgetTracker, RequestBudget
from connectors.http.cancel import CancelCheck, CancelToken
from connectors.http.clock import Clock, SystemClock
from connectors.http.counters import CounterSet, HttpCounters
from connectors.http.events import Observer, RateLimitWait, RetryScheduled
from connectors.http.gate import PausedTooLong, RateGate
from connectors.http.ratelimit import RateLimitInfo, parse_rate_limit
from connectors.http.retry import IDEMPOTENT_METHODS, RateLimitPolicy, RetryPolicy
from connectors.http.tls import tls_context

log = logging.getLogger("connectors.http")

DEFAULT_TIMEOUT = httpx.Timeout(connect=10.0, read=60.0, write=30.0, pool=10.0)

QueryParams = Mapping[str, str | int | float | bool | list[str] | None]


@dataclass(frozen=True)
class HttpConfig:
    """Everything that shapes one connector's HTTP behaviour.

    ``source`` names the service in errors and events ("jira", "github" …).
    """

    base_url: str
    source: str = "http"
    auth: httpx.Auth | None = field(default=None, repr=False)
    timeout: httpx.Timeout = field(default_factory=lambda: DEFAULT_TIMEOUT)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    rate_limit: RateLimitPolicy = field(default_factory=RateLimitPolicy)
    budget: RequestBudget = field(default_factory=RequestBudget)
    user_agent: str = "pulse-console"
    headers: Mapping[str, str] = field(default_factory=dict)


HTTPX_MAX_CONNECTIONS = 100
HTTPX_KEEPALIVE_CONNECTIONS = 20
HTTPX_KEEPALIVE_EXPIRY = 5.0
"""httpx's own defaults (``httpx.Client(limits=…)`` when none are given)."""


def connection_limits(gate: RateGate | None) -> httpx.Limits:
    """Connections kept open between requests: as many as the account's gate lets out at
    once (httpx keeps 20 by default, so a gate of 32 closed and opened a dozen connections
    on every round of requests), and never fewer than httpx's own defaults."""
    in_flight = gate.max_in_flight if gate is not None else 0
    keep = max(HTTPX_KEEPALIVE_CONNECTIONS, in_flight)
    return httpx.Limits(
        max_connections=max(HTTPX_MAX_CONNECTIONS, keep),
        max_keepalive_connections=keep,
        keepalive_expiry=HTTPX_KEEPALIVE_EXPIRY,
    )


class HttpClient(Closing):
    """A synchronous, thread-confined client (one per job / worker thread).

    ``cancel`` and ``observer`` may be set after construction: a job attaches its cancel flag
    and progress callback at the start of a run.
    """

    def __init__(
        self,
        config: HttpConfig,
        *,
        transport: httpx.BaseTransport | None = None,
        clock: Clock | None = None,
        cancel: CancelCheck | None = None,
        observer: Observer | None = None,
        gate: RateGate | None = None,
    ) -> None:
        self.config = config
        # The account's shared budget when several chains (threads, clients) use it at once.
        self.gate = gate
        self.clock: Clock = clock or SystemClock()
        self.cancel: CancelCheck | None = cancel
        self.observer: Observer | None = observer
        self._counters = CounterSet()
        self._budget = BudgetTracker(config.budget)
        self._last_limit: RateLimitInfo | None = None
        headers = {"Accept": "application/json", "User-Agent": config.user_agent}
        headers.update(config.headers)
        self._client = httpx.Client(
            base_url=config.base_url,
            auth=config.auth,
            timeout=config.timeout,
            headers=headers,
            transport=transport,
            verify=tls_context(),
            follow_redirects=False,
            limits=connection_limits(gate),
        )
        self._origin = self._client.base_url.copy_with(raw_path=b"/")

    @classmethod
    def from_options(
        cls, base_url: str, source: str, auth: httpx.Auth, options: dict[str, Any]
    ) -> HttpClient:
        """A client built from a connector's keyword options (transport, clock, cancel,
        observer, retry, rate_limit, budget, timeout, gate; ``None`` means the default). Unknown
        options are a ``TypeError``, so a misspelt one is never silently ignored."""
        options = dict(options)
        config = HttpConfig(
            base_url=base_url,
            source=source,
            auth=auth,
            timeout=options.pop("timeout", None) or DEFAULT_TIMEOUT,
            retry=options.pop("retry", None) or RetryPolicy(),
            rate_limit=options.pop("rate_limit", None) or RateLimitPolicy(),
            budget=options.pop("budget", None) or RequestBudget(),
        )
        transport: httpx.BaseTransport | None = options.pop("transport", None)
        clock: Clock | None = options.pop("clock", None)
        cancel: CancelCheck | None = options.pop("cancel", None)
        observer: Observer | None = options.pop("observer", None)
        gate: RateGate | None = options.pop("gate", None)
        if options:
            raise TypeError(f"unknown {source} client options: {', '.join(sorted(options))}")
        return cls(
            config, transport=transport, clock=clock, cancel=cancel, observer=observer, gate=gate
        )

    # -- lifecycle -------------------------------------------------------------------------

    def close(self) -> None:
        self._client.close()

    def __repr__(self) -> str:
        return f"HttpClient(source={self.config.source!r}, base_url={self.config.base_url!r})"

    def counters(self) -> HttpCounters:
        return self._counters.snapshot()

    @property
    def last_rate_limit(self) -> RateLimitInfo | None:
        """Rate-limit headers of the latest response (for the console's health view)."""
        return self._last_limit

    # -- JSON helpers ----------------------------------------------------------------------

    def get_json(self, path: str, *, params: QueryParams | None = None) -> Any:
        return decode_json(self.request("GET", path, params=params))

    def post_json(
        self,
        path: str,
        body: Any,
        *,
        params: QueryParams | None = None,
        retry_safe: bool = False,
    ) -> Any:
        """POST a JSON body; ``retry_safe=True`` for read-only POSTs such as searches."""
        response = self.request("POST", path, params=params, json=body, retry_safe=retry_safe)
        return decode_json(response)

    # -- the request loop ------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        params: QueryParams | None = None,
        json: Any = None,
        retry_safe: bool | None = None,
    ) -> httpx.Response:
        """Send one logical request, retrying and waiting as the policies allow.

        Returns only 2xx/3xx responses; every other outcome is a typed ``ConnectorError``.
        """
        method = method.upper()
        self._check_same_origin(path)
        safe = method in IDEMPOTENT_METHODS if retry_safe is None else retry_safe
        clean_params = _clean_params(params)
        attempt = 0
        waits = 0
        while True:
            self._before_send(method, path)
            attempt += 1
            self._counters.request_sent()
            try:
                response = self._send(method, path, clean_params, json)
            except httpx.UnsupportedProtocol:
                # A wrong scheme (ftp://, none) never gets better by asking again.
                raise TransportError(
                    f"{method} {path}: the base URL's scheme is not supported ("
                    f"{self._origin.scheme or 'none'}://); change it to https:// in the "
                    "integration settings",
                    attempts=attempt,
                ) from None
            except httpx.TransportError as exc:
                # Covers timeouts, connection resets and protocol errors alike.
                self._counters.transport_error()
                cause = f"{type(exc).__name__}: {exc}"
                if safe and self.config.retry.can_retry(attempt):
                    self._backoff(attempt, None, cause, method, path)
                    continue
                raise TransportError(
                    f"{method} {path} failed after {attempt} attempt(s) ({cause}). "
                    "Check the network and the service status, then retry the job.",
                    attempts=attempt,
                ) from None
            self._counters.response(response.status_code, len(response.content))
            now = self.clock.now()
            info = parse_rate_limit(response.headers, now)
            self._last_limit = info
            status = response.status_code
            log.debug(
                "%s %s -> %s (%d bytes)", method, response.url.path, status, len(response.content)
            )

            if status == 429 or (status == 403 and _says_wait(info)):
                waits += 1
                wait = info.wait_seconds(now)
                if wait is None:
                    wait = self.config.rate_limit.default_wait_seconds
                reset_at = info.resolved_reset(now) or now + timedelta(seconds=wait)
                if self.gate is not None:  # every chain of the account waits as long as we do
                    self.gate.back_off(now + timedelta(seconds=wait))
                if waits > self.config.rate_limit.max_consecutive_waits:
                    raise self._rate_limited(reset_at, wait, info.reason, persistent=True)
                self.wait_for_rate_limit(reset_at, wait, info.reason, method, path)
                continue

            if status in self.config.retry.retry_statuses:
                if safe and self.config.retry.can_retry(attempt):
                    if (
                        info.retry_after is not None
                        and info.retry_after > self.config.rate_limit.max_wait_seconds
                    ):
                        raise self._rate_limited(
                            now + timedelta(seconds=info.retry_after),
                            info.retry_after,
                            info.reason,
                        )
                    self._backoff(attempt, info.retry_after, f"HTTP {status}", method, path)
                    continue
                raise TransportError(
                    f"{method} {path} answered {status} after {attempt} attempt(s). "
                    "The service is failing; the job can be retried later.",
                    attempts=attempt,
                    last_status=status,
                )

            if status >= 400:
                raise _status_error(response, method, path)
            return response

    # -- rate limits -----------------------------------------------------------------------

    def wait_for_rate_limit(
        self,
        reset_at: datetime,
        seconds: float,
        reason: str | None = None,
        method: str = "",
        path: str = "",
    ) -> None:
        """Sleep through a short rate-limit wait, or raise ``RateLimited`` for a long one.

        Public so connectors can apply the same rule to signals found in bodies (GitHub
        GraphQL reports its limit in the JSON, not only in headers).
        """
        if seconds > self.config.rate_limit.max_wait_seconds:
            raise self._rate_limited(reset_at, seconds, reason)
        self._emit(
            RateLimitWait(
                seconds=seconds,
                reset_at=reset_at,
                source=self.config.source,
                reason=reason,
                method=method,
                path=path,
            )
        )
        log.info(
            "%s rate limit: waiting %.1f s until %s (%s)",
            self.config.source,
            seconds,
            reset_at.isoformat(timespec="seconds"),
            reason or "no reason given",
        )
        self._counters.rate_limit_wait(seconds)
        self._sleep(seconds)

    def _rate_limited(
        self,
        reset_at: datetime | None,
        seconds: float | None,
        reason: str | None,
        *,
        persistent: bool = False,
    ) -> RateLimited:
        when = reset_at.strftime("%H:%M:%S UTC") if reset_at else "an unknown time"
        why = f" ({reason})" if reason else ""
        if persistent:
            text = (
                f"{self.config.source} kept refusing requests{why} after repeated short waits. "
                f"The job will pause and resume after {when}."
            )
        else:
            text = (
                f"{self.config.source} asked us to wait until {when}{why}. "
                "The job will pause with its checkpoint and resume then."
            )
        return RateLimited(text, reset_at=reset_at, retry_after=seconds, source=self.config.source)

    # -- internals -------------------------------------------------------------------------

    def _send(
        self, method: str, path: str, params: dict[str, Any] | None, json: Any
    ) -> httpx.Response:
        """One send, holding one of the account's in-flight slots when there is a gate."""
        gate = self.gate
        if gate is None:
            return self._client.request(method, path, params=params, json=json)
        max_wait = self.config.rate_limit.max_wait_seconds
        try:
            while not gate.acquire(
                self.cancel, self.clock, method=method, path=path, max_wait=max_wait
            ):
                self._check_cancel()  # acquire gives up only when cancelled: this raises
        except PausedTooLong as paused:
            raise self._rate_limited(
                paused.until, paused.seconds, "another request of this account was told to wait"
            ) from None
        try:
            return self._client.request(method, path, params=params, json=json)
        finally:
            gate.release()

    def _before_send(self, method: str, path: str) -> None:
        self._check_cancel()
        if self._budget.run_exhausted():
            limit = self._budget.budget.max_requests or 0
            raise BudgetExhausted(
                f"This run has used its budget of {limit} {self.config.source} requests. "
                "Raise the budget in the integration settings or run again to continue.",
                limit=limit,
            )
        pace = self._budget.pace_wait(self.clock.monotonic())
        if pace > 0:
            now = self.clock.now()
            self.wait_for_rate_limit(
                now + timedelta(seconds=pace), pace, "client request budget", method, path
            )
        last = self._last_limit
        if last is not None and last.exhausted and last.reset_at is not None:
            now = self.clock.now()
            if last.reset_at > now:
                # The previous answer said no calls remain; asking again would only earn a 429.
                self._last_limit = None
                wait = (last.reset_at - now).total_seconds()
                self.wait_for_rate_limit(last.reset_at, wait, last.reason, method, path)
        self._check_cancel()
        self._budget.record(self.clock.monotonic())

    def _backoff(
        self, attempt: int, retry_after: float | None, cause: str, method: str, path: str
    ) -> None:
        delay = self.config.retry.backoff(attempt)
        if retry_after is not None:
            delay = max(delay, retry_after)
        self._counters.retry(delay)
        self._emit(
            RetryScheduled(attempt=attempt, delay=delay, cause=cause, method=method, path=path)
        )
        log.warning("%s %s: %s; retry %d in %.2f s", method, path, cause, attempt, delay)
        self._sleep(delay)

    def _sleep(self, seconds: float) -> None:
        if seconds <= 0:
            return
        cancel = self.cancel
        if isinstance(cancel, CancelToken) and isinstance(self.clock, SystemClock):
            # Wake immediately on cancel instead of finishing a minute-long wait.
            cancel.wait(seconds)
        else:
            self.clock.sleep(seconds)
        self._check_cancel()

    def _check_cancel(self) -> None:
        if self.cancel is not None and self.cancel():
            raise Cancelled(
                f"Stopped before the next {self.config.source} request, as requested. "
                "The job's last checkpoint is intact."
            )

    def _emit(self, event: RateLimitWait | RetryScheduled) -> None:
        if self.observer is None:
            return
        try:
            self.observer(event)
        except Exception:  # an observer bug must never break extraction
            log.exception("HTTP event observer failed")

    def _check_same_origin(self, path: str) -> None:
        url = httpx.URL(path)
        if url.is_absolute_url and url.copy_with(raw_path=b"/") != self._origin:
            # Credentials go only to the configured service, never to a URL a payload supplied.
            raise ValueError(f"refusing request to another origin: {url.host}")


def decode_json(response: httpx.Response) -> Any:
    """The response body as JSON, or ``BadPayload`` carrying the raw text."""
    try:
        return jsonlib.loads(response.content)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadPayload(
            f"{response.request.method} {response.url.path} returned a body that is not valid "
            f"JSON ({exc}). The response was kept for inspection.",
            raw=response.text,
            url=str(response.url),
        ) from None


def _says_wait(info: RateLimitInfo) -> bool:
    """A 403 that is a rate limit (GitHub's primary/secondary limits), not a permission."""
    return info.retry_after is not None or info.exhausted


def _clean_params(params: QueryParams | None) -> dict[str, Any] | None:
    if params is None:
        return None
    return {k: v for k, v in params.items() if v is not None}


def server_messages(response: httpx.Response) -> tuple[str, ...]:
    """Human messages from an error body (Jira ErrorCollection, GitHub ``message``)."""
    try:
        body = jsonlib.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        text = response.text.strip()
        return (text[:300],) if text else ()
    messages: list[str] = []
    if isinstance(body, dict):
        for item in body.get("errorMessages") or []:
            messages.append(str(item))
        errors = body.get("errors")
        if isinstance(errors, dict):
            messages.extend(f"{k}: {v}" for k, v in errors.items())
        elif isinstance(errors, list):
            messages.extend(
                str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in errors
            )
        if isinstance(body.get("message"), str):
            messages.append(body["message"])
    return tuple(m[:300] for m in messages)


def _status_error(response: httpx.Response, method: str, path: str) -> HttpStatusError:
    status = response.status_code
    messages = server_messages(response)
    detail = f" Server said: {'; '.join(messages)}" if messages else ""
    common: dict[str, Any] = {
        "status": status,
        "method": method,
        "path": path,
        "server_messages": messages,
    }
    if status == 401:
        return AuthError(
            f"The credentials were refused ({method} {path} → 401). Check the email/user and "
            f"token in the integration settings; the token may have expired.{detail}",
            **common,
        )
    if status == 403:
        return AuthError(
            f"The account is not allowed to do this ({method} {path} → 403). Grant it the "
            f"needed permission or use another account.{detail}",
            title="Permission denied",
            **common,
        )
    if status == 404:
        return NotFound(
            f"{method} {path} → 404: it does not exist or this account cannot see it.{detail}",
            **common,
        )
    return RequestRejected(f"{method} {path} → {status}.{detail}", **common)
