"""An audit row for every write request (any method but GET/HEAD/OPTIONS) a token made:
actor `api:<token name>`, action `api.<METHOD>`, the path, and the answer's status — also
when the write was refused or failed, so the trail shows what was attempted.

A plain ASGI middleware (reads cost it one dictionary lookup): it notes the status the
answer starts with and, once the answer is sent, writes the row on a thread.
"""

from __future__ import annotations

import logging

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pulse_console.api.authz import actor
from pulse_console.services.api_tokens import Caller

_READS = frozenset({"GET", "HEAD", "OPTIONS"})
_log = logging.getLogger("pulse.api")


class AuditWrites:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in _READS:
            await self.app(scope, receive, send)
            return
        status = 500

        async def noting(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, noting)
        finally:
            caller = scope.get("state", {}).get("caller")
            if isinstance(caller, Caller):
                await run_in_threadpool(_record, scope, caller, status)


def _record(scope: Scope, caller: Caller, status: int) -> None:
    try:
        scope["app"].state.face.record(
            caller.client,
            actor(caller),
            f"api.{scope['method'].lower()}",
            scope["path"],
            {"status": status},
        )
    except Exception:  # the answer stands; a lost audit row is logged
        _log.exception("could not audit %s %s", scope["method"], scope["path"])
