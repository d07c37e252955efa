"""Who calls (a bearer token) and what their role lets them do.

`Authorization: Bearer <token>` names a caller (`services.api_tokens`): a token's client and
role. Every route declares the role it needs (`caller: Viewer`, `User` or `Admin`); a token
is valid only under its own client's path; `services.role_names.allows` is the one role
rule (viewer < user < admin). Each authenticated request takes one token from its caller's
bucket (429 with Retry-After when empty).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.requests import HTTPConnection

from pulse_console.api.problems import Problem
from pulse_console.services.api_tokens import Caller
from pulse_console.services.role_names import Role, allows

# Declares the scheme in the OpenAPI schema (the docs' Authorize button); checked below.
scheme = HTTPBearer(auto_error=False, description="an API token (`pulse-console token create`)")


def bearer(header: str | None) -> str | None:
    scheme, _, token = (header or "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def authenticate(request: HTTPConnection) -> Caller:
    """The caller of `request` (401 without a valid token; 429 when over its rate)."""
    token = bearer(request.headers.get("authorization"))
    if token is None:
        raise Problem(
            401,
            "no API token: send `Authorization: Bearer <token>` "
            "(an admin creates one with `pulse-console token create`)",
            {"WWW-Authenticate": "Bearer"},
        )
    caller: Caller | None = request.app.state.face.authenticate(token)
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


def check(caller: Caller, client: str, needed: Role) -> None:
    """403 unless `caller` may act as `needed` on `client`."""
    if caller.client != client:
        raise Problem(403, f"token {caller.name} is not valid for client {client!r}")
    if not allows(caller.role, needed):
        raise Problem(
            403, f"token {caller.name} is a {caller.role} token: this needs the {needed} role"
        )


def needs(role: Role) -> Callable[..., Caller]:
    """A route dependency: the caller, when its token may act as `role` on `{client}`."""

    def dependency(
        request: Request,
        client: str,
        _: Annotated[HTTPAuthorizationCredentials | None, Depends(scheme)],
    ) -> Caller:
        caller = authenticate(request)
        check(caller, client, role)
        return caller

    return dependency


def actor(caller: Caller) -> str:
    """The audit log's actor of what a token does."""
    return f"api:{caller.name}"


# The callers a route accepts: `caller: Viewer` (any token of the client), `User`, `Admin`.
Viewer = Annotated[Caller, Depends(needs("viewer"))]
User = Annotated[Caller, Depends(needs("user"))]
Admin = Annotated[Caller, Depends(needs("admin"))]
