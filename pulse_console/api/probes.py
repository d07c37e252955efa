"""`/health` (the process answers) and `/ready` (and so does its database): for load
balancers, without a token, saying nothing else — no version, host, client or error text."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from pulse_console.api import schemas

router = APIRouter(tags=["probes"])


@router.get("/health", response_model=schemas.Probe)
def health() -> schemas.Probe:
    """200 while the process serves requests."""
    return schemas.Probe(status="ok")


@router.get(
    "/ready",
    response_model=schemas.Probe,
    responses={503: {"model": schemas.Probe, "description": "the database does not answer"}},
)
async def ready(request: Request) -> JSONResponse:
    """200 when the database answers, else 503."""
    if await run_in_threadpool(request.app.state.face.ready):
        return JSONResponse({"status": "ready"})
    return JSONResponse({"status": "unavailable"}, status_code=503)
