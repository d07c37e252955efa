"""Small pieces shared by the simulators: JSON responses, request bodies, path prefixes.

A simulator is a callable ``handle(request: httpx.Request) -> httpx.Response``. In-process it
sits behind ``httpx.MockTransport``; on a socket, ``server.SandboxServer`` turns HTTP/1.1
requests into ``httpx.Request`` objects and back. The socket server mounts a simulator under
a path prefix and tells it so with ``X-Forwarded-Prefix``, so ``self`` links stay right.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx

Handler = Callable[[httpx.Request], httpx.Response]
FORWARDED_PREFIX = "x-forwarded-prefix"


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    # Compact separators: real services do not pretty-print, and bytes are smaller.
    content = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
    all_headers = {"content-type": "application/json;charset=UTF-8"}
    if headers:
        all_headers.update(headers)
    return httpx.Response(status, content=content, headers=all_headers)


def raw_json_response(status: int, text: str) -> httpx.Response:
    """A JSON response whose body the caller has already encoded."""
    return httpx.Response(
        status, content=text.encode(), headers={"content-type": "application/json;charset=UTF-8"}
    )


def text_response(status: int, text: str, headers: dict[str, str] | None = None) -> httpx.Response:
    all_headers = {"content-type": "text/plain;charset=UTF-8"}
    if headers:
        all_headers.update(headers)
    return httpx.Response(status, content=text.encode(), headers=all_headers)


def json_body(request: httpx.Request) -> Any:
    """The request's JSON body; ``ValueError`` if it is not JSON."""
    raw = request.content
    if not raw:
        return {}
    return json.loads(raw)


def site_base(request: httpx.Request) -> str:
    """Scheme, host and mount prefix of the request: the base for ``self`` links."""
    url = request.url
    port = f":{url.port}" if url.port else ""
    prefix = request.headers.get(FORWARDED_PREFIX, "").rstrip("/")
    return f"{url.scheme}://{url.host}{port}{prefix}"
