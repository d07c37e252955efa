"""`/api/v1/clients/{client}/jobs…` and `…/runs…`: the client's jobs, their controls and
their past runs.

A control goes through `EngineService.control` exactly as the console's does (the process
that drives the client executes it and answers, refusing in `controls.why_not`'s words):
done → 200, refused → 409, failed (e.g. no worker drives the client) → 503.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Path, Query, Request
from starlette.concurrency import run_in_threadpool

from pulse_console.api import problems, schemas
from pulse_console.api.authz import Controls, Reads, acting, actor
from pulse_console.api.problems import Problem
from pulse_console.engine.control_names import Control

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
    responses=problems.responses(401, 403, 404, 429),
)
async def list_jobs(request: Request, client: str, caller: Reads) -> list[schemas.Job]:
    """The client's jobs in chain order: status, reason, next run, and live progress."""
    hub = request.app.state.hub
    status = await hub.status(client, caller)  # read as the token's role; unknown: 404
    progress = hub.latest_progress(status)
    return [schemas.Job(**view.as_json(), progress=progress.get(view.name)) for view in status.jobs]


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
