"""`/api/v1/clients/{client}/integrations…` and `…/health`: the integrations (never their
tokens: `has_token` says whether one is stored), a connection test of one (user), and the
Health screen's checks (database, each integration's API and budget, the log disk) plus
the orchestrator's state."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request

from pulse_console.api import problems, schemas
from pulse_console.api.authz import ManagesIntegrations, Reads, acting, actor
from pulse_console.api.orchestrator import state
from pulse_console.api.problems import Problem
from pulse_console.services.client_services import NO_SECRETS

router = APIRouter(
    prefix="/api/v1/clients/{client}", tags=["integrations"], responses=problems.CLIENT_ROUTE
)


@router.get(
    "/integrations",
    response_model=list[schemas.Integration],
    responses=problems.responses(401, 403, 404, 429),
)
def list_integrations(request: Request, client: str, caller: Reads) -> list[schemas.Integration]:
    face = acting(request, caller)
    face.require_client(client)
    items = face.client(client, actor(caller)).integrations.list_integrations()
    return [
        schemas.Integration(**{k: getattr(i, k) for k in schemas.Integration.model_fields})
        for i in items
    ]


@router.post(
    "/integrations/{name}/test",
    response_model=schemas.ConnectionTest,
    responses=problems.responses(401, 403, 404, 429, 503),
)
def test_integration(
    request: Request, client: str, caller: ManagesIntegrations, name: str
) -> schemas.ConnectionTest:
    """Call the integration's API with its stored token now (the outcome is recorded)."""
    face = acting(request, caller)
    face.require_client(client)
    services = face.client(client, actor(caller))
    found = next((i for i in services.integrations.list_integrations() if i.name == name), None)
    if found is None:
        raise Problem(404, f"client {client!r} has no integration {name!r}")
    if services.secrets is None:
        raise Problem(503, NO_SECRETS)
    check = services.integrations.check_saved(found.id)
    return schemas.ConnectionTest(ok=check.ok, title=check.title, message=check.message)


@router.get(
    "/health", response_model=schemas.Health, responses=problems.responses(401, 403, 404, 429)
)
def health(request: Request, client: str, caller: Reads) -> schemas.Health:
    """Database, each integration's API (as last tested) and budget, log disk, orchestrator."""
    face = acting(request, caller)
    face.require_client(client)
    checks = face.client(client, actor(caller)).health.report(datetime.now(UTC))
    engine = face.engine(client, actor(caller)).status()
    word = state(engine.leader, engine.orchestrator_paused)
    orchestrator = schemas.Check(
        component="Orchestrator",
        state="OK" if word == "running" else "WARN",
        detail=f"{word}" + (f" in {engine.leader}" if engine.leader else ""),
    )
    return schemas.Health(
        client=client,
        checks=[
            schemas.Check(component=c.component, state=c.state, detail=c.detail) for c in checks
        ]
        + [orchestrator],
    )
