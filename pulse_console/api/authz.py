"""Who calls (a bearer token) and what their role lets them do.

`Authorization: Bearer <token>` names a caller (`services.api_tokens`): a token's client
and role. Every route declares the action it is (`caller: Reads`, `Controls`, …: an
`services.roles.Action`), and the role rule of the console and the CLI
(`services.roles.require`) says whether the token's role may do it, in its words; a token
is valid only under its own client's path, and the request's database work runs as the
token's own PostgreSQL role (`acting`), so PostgreSQL enforces the same rights again. Each
authenticated request takes one token from its caller's bucket (429 with Retry-After when
empty). A token once found is trusted for `TokenCache.seconds` (5) before it is looked up
again: a revoked token stops working within that time.
"""

from __future__ import annotations

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
from pulse_console.services.api_tokens import Caller
from pulse_console.services.roles import Action, RoleRefused, require
from pulse_console.services.service_face import ServiceFace

# Declares the scheme in the OpenAPI schema (the docs' Authorize button); checked below.
scheme = HTTPBearer(auto_error=False, description="an API token (`pulse-console token create`)")


class TokenCache:
    """Callers of recently presented tokens (a poller's token is looked up once in
    `seconds`, not at every request); an unknown token is never cached."""

    def __init__(self, lookup: Callable[[str], Caller | None], seconds: float = 5.0) -> None:
        self.lookup = lookup
        self.seconds = seconds
        self._found: dict[str, tuple[Caller, float]] = {}
        self._lock = threading.Lock()

    def recent(self, token: str) -> Caller | None:
        """The caller of `token` when it was found in the last `seconds`, else None."""
        with self._lock:
            found = self._found.get(token)
        if found is not None and time.monotonic() - found[1] < self.seconds:
            return found[0]
        return None

    def caller(self, token: str) -> Caller | None:
        """The caller of `token` (looked up unless `recent`); blocks on the database."""
        recent = self.recent(token)
        if recent is not None:
            return recent
        now = time.monotonic()
        caller = self.lookup(token)
        with self._lock:
            if caller is None:
                self._found.pop(token, None)
            else:
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
    caller = tokens.recent(token) or await run_in_threadpool(tokens.caller, token)
    if caller is None:
        raise Problem(401, "the API token is unknown or revoked", {"WWW-Authenticate": "Bearer"})
    wait = request.app.state.limiter.take(f"{caller.client}/{caller.name}")
    if wait > 0:
        raise Problem(
            429,
            f"token {caller.name} is over its rate limit: retry in {math.ceil(wait)} s",
            {"Retry-After": str(math.ceil(wait))},
        )
    request.state.caller = caller
    return caller


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
