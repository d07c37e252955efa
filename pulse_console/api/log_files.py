"""`/api/v1/clients/{client}/log-files…`: the log files the client's operator may see
(its own job log and process logs), download as a zip (user), delete or clear one, and
delete those older than N days (admin) — the Log files screen's services, audited."""

from __future__ import annotations

import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from pulse_console.api import problems, schemas
from pulse_console.api.authz import ExportsLogs, ManagesLogFiles, Reads, acting, actor
from pulse_console.api.problems import Problem
from pulse_console.services.api_tokens import Caller
from pulse_console.services.client_services import ClientServices

router = APIRouter(
    prefix="/api/v1/clients/{client}/log-files", tags=["log files"], responses=problems.CLIENT_ROUTE
)


def _bound(request: Request, client: str, caller: Caller) -> ClientServices:
    face = acting(request, caller)
    face.require_client(client)
    services: ClientServices = face.client(client, actor(caller))
    return services


def _path(services: ClientServices, name: str) -> Path:
    if name not in {f.name for f in services.log_files.list_files()}:
        raise Problem(404, f"client {services.client!r} has no log file {name!r}")
    return services.log_dir / name


@router.get(
    "", response_model=list[schemas.LogFile], responses=problems.responses(401, 403, 404, 429)
)
def list_files(request: Request, client: str, caller: Reads) -> list[schemas.LogFile]:
    """The client's log files, newest first."""
    files = _bound(request, client, caller).log_files.list_files()
    return [schemas.LogFile(name=f.name, size=f.size, modified=f.modified) for f in files]


@router.get(
    "/download",
    response_class=FileResponse,
    responses={
        200: {"content": {"application/zip": {}}, "description": "the files, zipped"},
        **problems.responses(401, 403, 404, 429),
    },
)
def download(
    request: Request,
    client: str,
    caller: ExportsLogs,
    name: Annotated[
        list[str] | None, Query(description="files to include (default: all of them)")
    ] = None,
) -> FileResponse:
    """A zip of the named log files (all of the client's when none is named)."""
    services = _bound(request, client, caller)
    paths = [_path(services, n) for n in name or ()] or [
        f.path for f in services.log_files.list_files()
    ]
    handle, temp = tempfile.mkstemp(prefix="pulse-logs-", suffix=".zip")
    os.close(handle)
    dest = Path(temp)
    services.log_files.export_zip(paths, dest)
    return FileResponse(
        dest,
        media_type="application/zip",
        filename=f"logs-{client}-{datetime.now(UTC):%Y%m%dT%H%M%S}.zip",
        background=BackgroundTask(dest.unlink, missing_ok=True),
    )


@router.delete(
    "/{name}", response_model=schemas.Deleted, responses=problems.responses(401, 403, 404, 429)
)
def delete(request: Request, client: str, caller: ManagesLogFiles, name: str) -> schemas.Deleted:
    """Delete one log file."""
    services = _bound(request, client, caller)
    services.log_files.delete(_path(services, name))
    return schemas.Deleted(deleted=[name])


@router.post(
    "/{name}/clear",
    response_model=schemas.Cleared,
    responses=problems.responses(401, 403, 404, 429),
)
def clear(request: Request, client: str, caller: ManagesLogFiles, name: str) -> schemas.Cleared:
    """Empty one log file (a process writing it keeps appending)."""
    services = _bound(request, client, caller)
    services.log_files.clear(_path(services, name))
    return schemas.Cleared(cleared=[name])


@router.post(
    "/cleanup",
    response_model=schemas.Deleted,
    responses=problems.responses(401, 403, 404, 422, 429),
)
def cleanup(
    request: Request,
    client: str,
    caller: ManagesLogFiles,
    older_than_days: int = Query(..., ge=1, le=36500),
) -> schemas.Deleted:
    """Delete the client's log files last written more than N days ago."""
    services = _bound(request, client, caller)
    return schemas.Deleted(
        deleted=services.log_files.delete_older_than(older_than_days, datetime.now(UTC))
    )
