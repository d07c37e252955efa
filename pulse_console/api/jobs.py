"""`/api/v1/clients/{client}/jobs…` and `…/runs…`: the client's jobs, their controls and
their past runs.

A control goes through `EngineService.control` exactly as the console's does (the process
that drives the client executes it and answers, refusing in `controls.why_not`'s words):
done → 200, refused → 409, failed (e.g. no worker drives the client) → 503.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from pulse_console.api import problems, schemas
from pulse_console.api.authz import Controls, Reads, acting, actor, admit, bearer, check
from pulse_console.api.problems import Problem
from pulse_console.api.progress import JobsBody
from pulse_console.engine.control_names import Control
from pulse_console.services.roles import Action

if TYPE_CHECKING:
    from pulse_console.engine.controls import ControlResult

router = APIRouter(
    prefix="/api/v1/clients/{client}", tags=["jobs"], responses=problems.CLIENT_ROUTE
)


class JobAction(StrEnum):
    START = "start"
    STOP = "stop"
    PAUSE = "pause"
    RESUME = "resume"
    SET_ACTIVE = "set-active"


JOB_CONTROLS = {c.verb: c for c in Control if c.needs_job}


def answer(result: ControlResult, mode: str) -> schemas.ControlAnswer:
    """A done control as 200; refused as 409 with the engine's reason; failed as 503."""
    if result.ok:
        return schemas.ControlAnswer(ok=True, message=result.message, mode=mode)
    raise Problem(409 if result.refused else 503, result.message)


@router.get(
    "/jobs",
    response_model=list[schemas.Job],
    responses={
        304: {"description": "Not Modified: the list is the one `If-None-Match` names"},
        **problems.responses(401, 403, 404, 429),
    },
)
async def list_jobs(request: Request, client: str, caller: Reads) -> Response:
    """The client's jobs in chain order: status, reason, next run, and live progress.
    Answers with an `ETag`; a poller that sends it back as `If-None-Match` gets 304 (no
    body) while the list is unchanged."""
    # Read as the token's role (unknown: 404), made once for every poller alike (ProgressHub).
    jobs = await request.app.state.hub.jobs(client, caller)
    return jobs_answer(jobs, request.headers.get("if-none-match"))


def jobs_answer(jobs: JobsBody, if_none_match: str | None) -> Response:
    """The jobs list with its ETag, or 304 when `If-None-Match` names it."""
    headers = {"ETag": jobs.etag, "Cache-Control": "no-cache"}
    tags = _etags(if_none_match)
    if jobs.etag in tags or "*" in tags:
        return Response(status_code=304, headers=headers)
    return Response(jobs.body, media_type="application/json", headers=headers)


class CachedJobs:
    """`GET …/jobs` answered before FastAPI's routing and dependency solving when all that
    the route would find is already in memory: the token's caller (`TokenCache.recent`),
    its role and client allowed (`check`), and its token role's jobs list fresh
    (`ProgressHub.cached_jobs`); the caller's rate bucket is taken as the route takes it.
    Anything else (a token not cached, a refusal, a list to read again) goes down the
    route, which answers it. A pure ASGI middleware: two hundred pollers' requests are
    each a few dictionary lookups (FastAPI's per-request machinery was most of `serve`'s
    CPU under benchmarks/bench_api.py)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            found = _JOBS_PATH.fullmatch(scope["path"])
            answer = _cached_answer(scope, found.group(1)) if found else None
            if answer is not None:
                await answer(scope, receive, send)
                return
        await self.app(scope, receive, send)


_JOBS_PATH = re.compile(r"/api/v1/clients/([^/\x00]+)/jobs")


def _cached_answer(scope: Scope, client: str) -> Response | None:
    state = scope["app"].state
    headers = Headers(scope=scope)
    token = bearer(headers.get("authorization"))
    caller = state.tokens.recent(token) if token is not None else None
    if caller is None:
        return None
    try:
        check(caller, client, Action.READ)
    except Problem:
        return None
    jobs = state.hub.cached_jobs(client, caller)  # (the ASGI path is decoded)
    if jobs is None:
        return None
    try:
        admit(state.limiter, caller)
    except Problem as exc:
        return problems.problem_response(exc.status, exc.detail, exc.headers)
    return jobs_answer(jobs, headers.get("if-none-match"))


def _etags(header: str | None) -> set[str]:
    """The entity tags of an `If-None-Match` header (RFC 9110 13.1.2; `*` matches any)."""
    return {tag.strip().removeprefix("W/") for tag in (header or "").split(",")} - {""}


@router.post(
    "/jobs/{job}/{action}",
    response_model=schemas.ControlAnswer,
    responses=problems.responses(401, 403, 404, 409, 429, 503),
)
async def control_job(
    request: Request, client: str, caller: Controls, job: str, action: JobAction
) -> schemas.ControlAnswer:
    """Start, stop, pause, resume or set active one job (as the console's keys do)."""

    def send() -> schemas.ControlAnswer:
        service = acting(request, caller).engine(client, actor(caller))
        try:
            return answer(service.control(JOB_CONTROLS[action.value], job), service.mode)
        finally:
            service.close()

    try:
        return await run_in_threadpool(send)
    finally:
        request.app.state.hub.changed(client)


@router.get(
    "/runs",
    response_model=list[schemas.Run],
    responses=problems.responses(401, 403, 404, 429),
)
def list_runs(
    request: Request,
    client: str,
    caller: Reads,
    job: str | None = None,
    limit: int = Query(50, ge=1, le=1000),
) -> list[schemas.Run]:
    """Past runs, newest first (of one job with `job`)."""
    face = acting(request, caller)
    face.require_client(client)
    return [schemas.Run(**_fields(run, schemas.Run)) for run in face.runs(client, job, limit)]


@router.get(
    "/runs/{run_id}",
    response_model=schemas.RunDetail,
    responses=problems.responses(401, 403, 404, 429),
)
def run_detail(
    request: Request,
    client: str,
    caller: Reads,
    run_id: Annotated[int, Path(ge=1, le=problems.MAX_ID)],
) -> schemas.RunDetail:
    """One run with its checkpoints before and after and its stats."""
    face = acting(request, caller)
    face.require_client(client)
    run = face.run_detail(client, run_id)
    if run is None:
        raise Problem(404, f"client {client!r} has no run {run_id}")
    return schemas.RunDetail(**_fields(run, schemas.RunDetail))


def _fields(run: object, model: type[schemas.Run]) -> dict[str, object]:
    return {name: getattr(run, name) for name in model.model_fields}
