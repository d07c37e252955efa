"""Refuse a request whose path or query holds a NUL character (422, problem+json).

PostgreSQL stores no NUL in text, so such a value could only fail deep in a query; it is
refused at the door with one line instead (a job, file or integration name never has one).
"""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

from starlette.types import ASGIApp, Receive, Scope, Send

from pulse_console.api.problems import problem_response


class NulGuard:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and _has_nul(scope):
            if scope["type"] == "http":
                answer = problem_response(422, "the request's path or query holds a NUL character")
                await answer(scope, receive, send)
            else:
                await send({"type": "websocket.close", "code": 1008})
            return
        await self.app(scope, receive, send)


def _has_nul(scope: Scope) -> bool:
    path: str = scope.get("path", "")
    query: bytes = scope.get("query_string", b"")
    return "\x00" in path or b"\x00" in unquote_to_bytes(query)
