"""`/api/v1/clients/{client}/metrics/dora|flow`: the same JSON as `pulse-console metrics
dora|flow --format json` (services.metrics_report), for a period `[since, until)`."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from pulse_console.api import problems
from pulse_console.api.authz import Reads, acting
from pulse_console.api.problems import Problem
from pulse_console.services.metrics_report import jsonable

router = APIRouter(
    prefix="/api/v1/clients/{client}/metrics", tags=["metrics"], responses=problems.CLIENT_ROUTE
)
_SINCE = Query(None, description="start, inclusive (ISO date or time, UTC)")
_UNTIL = Query(None, description="end, exclusive (default: today 00:00 UTC)")


def _utc(value: datetime | None, name: str) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise Problem(422, f"{name}: give a time zone (e.g. 2026-12-01T00:00:00Z)")
    return value


def _answer(data: dict[str, Any]) -> JSONResponse:
    return JSONResponse(json.loads(json.dumps(data, default=jsonable)))


@router.get(
    "/dora",
    response_model=dict[str, Any],
    responses=problems.responses(401, 403, 404, 409, 422, 429),
)
def dora(
    request: Request,
    client: str,
    caller: Reads,
    since: datetime | None = _SINCE,
    until: datetime | None = _UNTIL,
    project: str | None = None,
    team: str | None = None,
    repository: str | None = None,
    release: str | None = None,
    goal: str | None = None,
) -> JSONResponse:
    """Deployment frequency, lead time, change failure rate, time to restore, with levels."""
    acting(request, caller).require_client(client)
    data = acting(request, caller).metrics(
        client,
        "dora",
        since=_utc(since, "since"),
        until=_utc(until, "until"),
        project=project,
        team=team,
        repository=repository,
        release=release,
        goal=goal,
    )
    return _answer(data)


@router.get(
    "/flow",
    response_model=dict[str, Any],
    responses=problems.responses(401, 403, 404, 409, 422, 429),
)
def flow(
    request: Request,
    client: str,
    caller: Reads,
    since: datetime | None = _SINCE,
    until: datetime | None = _UNTIL,
    project: str | None = None,
    team: str | None = None,
    issue_type: str | None = None,
    release: str | None = None,
    goal: str | None = None,
) -> JSONResponse:
    """Lead and cycle time, WIP, throughput, time in each step, throughput per week."""
    acting(request, caller).require_client(client)
    data = acting(request, caller).metrics(
        client,
        "flow",
        since=_utc(since, "since"),
        until=_utc(until, "until"),
        project=project,
        team=team,
        issue_type=issue_type,
        release=release,
        goal=goal,
    )
    return _answer(data)
