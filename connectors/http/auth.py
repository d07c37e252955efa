"""Authentication schemes, applied per request so credentials never sit in client headers."""

from __future__ import annotations

import base64
from collections.abc import Generator

import httpx

from connectors.secret import Secret, hold_basic


class BasicAuth(httpx.Auth):
    """HTTP Basic with an email and API token (Jira Cloud, Azure DevOps ``:PAT``)."""

    def __init__(self, username: str, token: Secret) -> None:
        self.username = username
        self._token = token
        hold_basic(username, token.reveal())

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        raw = f"{self.username}:{self._token.reveal()}".encode()
        request.headers["Authorization"] = "Basic " + base64.b64encode(raw).decode("ascii")
        yield request

    def __repr__(self) -> str:
        return f"BasicAuth(username={self.username!r}, token=***)"


class BearerAuth(httpx.Auth):
    """``Authorization: Bearer <token>`` (Jira Data Center PAT, GitHub, Aha!)."""

    def __init__(self, token: Secret) -> None:
        self._token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._token.reveal()}"
        yield request

    def __repr__(self) -> str:
        return "BearerAuth(token=***)"
