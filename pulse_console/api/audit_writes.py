"""An audit row for every write request (any method but GET/HEAD/OPTIONS) a token made:
actor `api:<token name>`, action `api.<METHOD>`, the path, and the answer's status — also
when the write was refused or failed, so the trail shows what was attempted."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from starlette.concurrency import run_in_threadpool

from pulse_console.api.authz import actor
from pulse_console.services.api_tokens import Caller

_READS = frozenset({"GET", "HEAD", "OPTIONS"})
_log = logging.getLogger("pulse.api")


def install(app: FastAPI) -> None:
    @app.middleware("http")
    async def audit_writes(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        status = 500
        try:
            response = await call_next(request)
            status = response.status_code
            return response
        finally:
            caller = getattr(request.state, "caller", None)
            if request.method not in _READS and isinstance(caller, Caller):
                await run_in_threadpool(_record, request, caller, status)


def _record(request: Request, caller: Caller, status: int) -> None:
    try:
        request.app.state.face.record(
            caller.client,
            actor(caller),
            f"api.{request.method.lower()}",
            request.url.path,
            {"status": status},
        )
    except Exception:  # the answer stands; a lost audit row is logged
        _log.exception("could not audit %s %s", request.method, request.url.path)
