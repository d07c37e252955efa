"""Who calls (a bearer token) and what their role lets them do.

`Authorization: Bearer <token>` names a caller (`services.api_tokens`): a token's client
and role. Every route declares the action it is (`caller: Reads`, `Controls`, …: an
`services.roles.Action`), and the role rule of the console and the CLI
(`services.roles.require`) says whether the token's role may do it, in its words; a token
is valid only under its own client's path, and the request's database work runs as the
token's own PostgreSQL role (`acting`), so PostgreSQL enforces the same rights again. Each
authenticated request takes one token from its caller's bucket (429 with Retry-After when
empty). A token once found is trusted until the tokens table changes (`TokenCache`, asked at
most once a second): a revoked token stops working within that second.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection

from pulse_console.api.problems import Problem
from pulse_console.api.ratelimit import RateLimiter
from pulse_console.services.api_tokens import Caller
from pulse_console.services.roles import Action, RoleRefused, require
from pulse_console.services.service_face import ServiceFace

# Declares the scheme in the OpenAPI schema (the docs' Authorize button); checked below.
scheme = HTTPBearer(auto_error=False, description="an API token (`pulse-console token create`)")


class TokenCache:
    """Callers of recently presented tokens: a poller's token costs no database call.

    A found token is trusted until the tokens table changes, and for `ttl` seconds at most.
    Whether it changed is asked of the database at most once every `seconds` per process,
    with one small query (`stamp`: `api_tokens.stamp`, which any create, revoke or client
    removal changes); a change forgets every cached caller and bumps `generation`. So a
    revoked token stops working within `seconds` (1 by default), however many tokens
    poll, and two hundred pollers cost one query a second, not a lookup each. An unknown
    token is never cached.
    """

    def __init__(
        self,
        lookup: Callable[[str], Caller | None],
        seconds: float = 1.0,
        *,
        stamp: Callable[[], object] | None = None,
        ttl: float = 60.0,
    ) -> None:
        self.lookup = lookup
        self.seconds = seconds
        self.ttl = ttl if stamp is not None else seconds  # no stamp: the TTL alone
        self.generation = 0
        self._stamp = stamp
        self._seen: object = None
        self._checked = -math.inf  # when the stamp was last asked (monotonic)
        self._found: dict[str, tuple[Caller, float]] = {}
        self._lock = threading.Lock()
        self._checking = threading.Lock()
        self._asking: asyncio.Future[int] | None = None  # the stamp being asked

    def recent(self, token: str) -> Caller | None:
        """The caller of `token` when it is cached and the stamp was asked in the last
        `seconds`, else None (ask `caller`)."""
        if self._stamp is not None and self.stale():
            return None
        return self._cached(token)

    def _cached(self, token: str) -> Caller | None:
        with self._lock:
            found = self._found.get(token)
        if found is not None and time.monotonic() - found[1] < self.ttl:
            return found[0]
        return None

    def check(self) -> int:
        """Ask the stamp when it is older than `seconds` (blocks on the database; one
        thread asks, the others wait for it); the `generation` after."""
        if self._stamp is None:
            return self.generation
        with self._checking:
            if time.monotonic() - self._checked < self.seconds:
                return self.generation
            asked = time.monotonic()
            stamp = self._stamp()
            with self._lock:
                if stamp != self._seen:
                    self._found.clear()
                    self._seen = stamp
                    self.generation += 1
                self._checked = asked
                return self.generation

    async def current(self, token: str) -> Caller | None:
        """`caller`, on the event loop: when the stamp is due, one request asks it on a
        thread and every other request of that moment awaits that answer (no thread
        each); a cached caller then costs nothing more."""
        found = self.recent(token)
        if found is not None:
            return found
        if self._stamp is not None and self.stale():
            if self._asking is None or self._asking.done():
                self._asking = asyncio.ensure_future(run_in_threadpool(self.check))
            await asyncio.shield(self._asking)
            found = self._cached(token)  # the stamp was just asked
            if found is not None:
                return found
        return await run_in_threadpool(self.caller, token)

    def stale(self) -> bool:
        """Is the stamp due to be asked?"""
        return time.monotonic() - self._checked >= self.seconds

    def caller(self, token: str) -> Caller | None:
        """The caller of `token` (looked up unless `recent`); blocks on the database."""
        generation = self.check()
        cached = self._cached(token)  # the stamp was just asked
        if cached is not None:
            return cached
        now = time.monotonic()
        caller = self.lookup(token)
        with self._lock:
            if caller is None:
                self._found.pop(token, None)
            elif generation == self.generation:  # else the table changed since: not kept
                if len(self._found) > 10_000:  # many tokens: forget them all, look up again
                    self._found.clear()
                self._found[token] = (caller, now)
        return caller


def bearer(header: str | None) -> str | None:
    scheme, _, token = (header or "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


async def authenticate(request: HTTPConnection) -> Caller:
    """The caller of `request` (401 without a valid token; 429 when over its rate). A token
    seen recently costs no database call (and no thread)."""
    token = bearer(request.headers.get("authorization"))
    if token is None:
        raise Problem(
            401,
            "no API token: send `Authorization: Bearer <token>` "
            "(an admin creates one with `pulse-console token create`)",
            {"WWW-Authenticate": "Bearer"},
        )
    tokens: TokenCache = request.app.state.tokens
    caller = await tokens.current(token)
    if caller is None:
        raise Problem(401, "the API token is unknown or revoked", {"WWW-Authenticate": "Bearer"})
    admit(request.app.state.limiter, caller)
    request.state.caller = caller
    return caller


def admit(limiter: RateLimiter, caller: Caller) -> None:
    """Take one request from `caller`'s bucket (429 when it is empty)."""
    wait = limiter.take(f"{caller.client}/{caller.name}")
    if wait > 0:
        raise Problem(
            429,
            f"token {caller.name} is over its rate limit: retry in {math.ceil(wait)} s",
            {"Retry-After": str(math.ceil(wait))},
        )


def check(caller: Caller, client: str, action: Action) -> None:
    """403 unless `caller` may do `action` on `client` (the role rule's line)."""
    if caller.client != client:
        raise Problem(403, f"token {caller.name} is not valid for client {client!r}")
    try:
        require(caller.role, action, login=f"token {caller.name}")
    except RoleRefused as exc:
        raise Problem(403, str(exc)) from None


def needs(action: Action) -> Callable[..., Awaitable[Caller]]:
    """A route dependency: the caller, when its token may do `action` on `{client}`."""

    async def dependency(
        request: Request,
        client: str,
        _: Annotated[HTTPAuthorizationCredentials | None, Depends(scheme)],
    ) -> Caller:
        caller = await authenticate(request)
        check(caller, client, action)
        return caller

    return dependency


def acting(request: HTTPConnection, caller: Caller) -> ServiceFace:
    """The services as `caller`'s PostgreSQL role: every query of the request is judged by
    PostgreSQL's GRANTs and row-level security for the token, behind `check`."""
    face: ServiceFace = request.app.state.face
    return face.acting(caller)


def actor(caller: Caller) -> str:
    """The audit log's actor of what a token does."""
    return f"api:{caller.name}"


# The callers a route accepts, by what the route does (services.roles.Action).
Reads = Annotated[Caller, Depends(needs(Action.READ))]
Controls = Annotated[Caller, Depends(needs(Action.CONTROL))]
ExportsLogs = Annotated[Caller, Depends(needs(Action.EXPORT_LOGS))]
ManagesLogFiles = Annotated[Caller, Depends(needs(Action.MANAGE_LOG_FILES))]
ManagesSettings = Annotated[Caller, Depends(needs(Action.MANAGE_SETTINGS))]
ManagesIntegrations = Annotated[Caller, Depends(needs(Action.MANAGE_INTEGRATIONS))]
