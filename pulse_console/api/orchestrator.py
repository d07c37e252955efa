"""`/api/v1/clients/{client}/orchestrator…`: its state, start (the chain now), pause,
resume, and its run-time settings (read: viewer; write: admin), through the engine
service as `pulse-console orchestrator …` does."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from fastapi import APIRouter, Request

from pulse_console.api import problems, schemas
from pulse_console.api.authz import Controls, ManagesSettings, Reads, acting, actor
from pulse_console.api.jobs import answer
from pulse_console.engine.control_names import Control

router = APIRouter(
    prefix="/api/v1/clients/{client}/orchestrator",
    tags=["orchestrator"],
    responses=problems.CLIENT_ROUTE,
)


class OrchestratorAction(StrEnum):
    START = "start"
    PAUSE = "pause"
    RESUME = "resume"


CONTROLS = {c.verb: c for c in Control if not c.needs_job}


def state(leader: str | None, paused: bool) -> str:
    """running | paused | idle (nobody drives the client)."""
    if leader is None:
        return "idle"
    return "paused" if paused else "running"


@router.get(
    "", response_model=schemas.Orchestrator, responses=problems.responses(401, 403, 404, 429)
)
def status(request: Request, client: str, caller: Reads) -> schemas.Orchestrator:
    """Who drives the client, whether the orchestrator is paused, and its settings."""
    found = acting(request, caller).engine(client, actor(caller)).status()
    return schemas.Orchestrator(
        client=found.client,
        mode=found.mode,
        leader=found.leader,
        state=state(found.leader, found.orchestrator_paused),
        paused=found.orchestrator_paused,
        settings=found.settings,
    )


@router.post(
    "/{action}",
    response_model=schemas.ControlAnswer,
    responses=problems.responses(401, 403, 404, 409, 429, 503),
)
def control(
    request: Request, client: str, caller: Controls, action: OrchestratorAction
) -> schemas.ControlAnswer:
    """`start` runs the chain now; `pause` stops automatic starts; `resume` undoes it."""
    service = acting(request, caller).engine(client, actor(caller))
    try:
        return answer(service.control(CONTROLS[action.value]), service.mode)
    finally:
        service.close()
        request.app.state.hub.changed(client)


@router.get(
    "/settings", response_model=dict[str, Any], responses=problems.responses(401, 403, 404, 429)
)
def read_settings(request: Request, client: str, caller: Reads) -> dict[str, Any]:
    """The effective run-time settings (stored values over config.toml's)."""
    settings: dict[str, Any] = (
        acting(request, caller).engine(client, actor(caller)).status().settings
    )
    return settings


@router.put(
    "/settings/{key}",
    response_model=schemas.ControlAnswer,
    responses=problems.responses(401, 403, 404, 409, 429, 503),
)
def write_setting(
    request: Request, client: str, caller: ManagesSettings, key: str, body: schemas.SettingValue
) -> schemas.ControlAnswer:
    """Set one run-time setting (validated, audited; applied at once by the driving
    process, else by whoever drives next)."""
    service = acting(request, caller).engine(client, actor(caller))
    try:
        return answer(service.set_setting(key, body.value), service.mode)
    finally:
        service.close()
        request.app.state.hub.changed(client)
