"""Errors as RFC 9457 problem details (`application/problem+json`), one line, redacted.

Every error a client sees is `{"type", "title", "status", "detail"}` where `detail` is the
same one line the CLI prints (a refusal's reason from the engine, an unknown client's
hint). Text that came from a server is redacted (`connectors.secret.redact`) before it is
sent; an unexpected error says only that it happened (the traceback goes to the server's
log, never to the client). RFC 9457: https://www.rfc-editor.org/rfc/rfc9457
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from connectors.secret import redact
from pulse_console.services import connectivity
from pulse_console.services.api_tokens import TokenRefused
from pulse_console.services.metrics_report import MetricsRefused

MEDIA_TYPE = "application/problem+json"
MAX_ID = 2**63 - 1  # ids are BIGINT: a larger one names nothing
_log = logging.getLogger("pulse.api")

TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Refused",
    422: "Invalid request",
    429: "Too many requests",
    500: "Internal error",
    502: "Failed",
    503: "Unavailable",
}

# The OpenAPI description of an error answer (every route lists the ones it gives).
PROBLEM_SCHEMA: dict[str, Any] = {
    "content": {
        MEDIA_TYPE: {
            "schema": {
                "type": "object",
                "properties": {
                    "type": {"type": "string"},
                    "title": {"type": "string"},
                    "status": {"type": "integer"},
                    "detail": {"type": "string"},
                },
                "required": ["type", "title", "status", "detail"],
            }
        }
    },
    "description": "problem details (RFC 9457)",
}


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: {**PROBLEM_SCHEMA, "description": TITLES[code]} for code in codes}


# What any route under a client's path may answer besides its own (400: a body that is
# not JSON).
CLIENT_ROUTE = responses(400, 401, 403, 404, 422, 429)


def document(app: FastAPI) -> None:
    """Make the OpenAPI schema say what the handlers do: every error answer (4xx, 5xx) is
    problem+json (FastAPI documents its validation errors as plain JSON otherwise)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = build()
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                for code, answer in operation.get("responses", {}).items():
                    if str(code).isdigit() and int(code) >= 400:
                        answer["content"] = PROBLEM_SCHEMA["content"]
        for unused in ("HTTPValidationError", "ValidationError"):
            schema.get("components", {}).get("schemas", {}).pop(unused, None)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


class Problem(Exception):
    """An error answer: HTTP status and the one line that says what and what to do."""

    def __init__(self, status: int, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = headers or {}


def problem_response(
    status: int, detail: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    body = {
        "type": "about:blank",
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": redact(" ".join(detail.split())),
    }
    return JSONResponse(body, status_code=status, headers=headers, media_type=MEDIA_TYPE)


def _validation_line(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors()[:3]:
        where = ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "request"
        parts.append(f"{where}: {err.get('msg', 'invalid')}")
    return "; ".join(parts) or "the request is invalid"


def install(app: FastAPI) -> None:
    """Answer every error of `app` as problem+json."""

    async def on_problem(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, Problem)
        return problem_response(exc.status, exc.detail, exc.headers)

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        detail = exc.detail if isinstance(exc.detail, str) else TITLES.get(exc.status_code, "")
        return problem_response(exc.status_code, detail, dict(exc.headers or {}))

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return problem_response(422, _validation_line(exc))

    async def on_refused(request: Request, exc: Exception) -> JSONResponse:
        return problem_response(409, str(exc))

    async def on_lookup(request: Request, exc: Exception) -> JSONResponse:
        return problem_response(404, str(exc))

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        if isinstance(exc, connectivity.ActingRoleGone):  # revoked in the last seconds
            return problem_response(401, "the API token is unknown or revoked")
        refused = connectivity.refusal(exc)
        if refused is not None:  # the token's PostgreSQL role may not (GRANT or policy)
            return problem_response(403, refused)
        if connectivity.is_busy(exc):
            return problem_response(
                503, "the server is busy (no database connection came free): try again"
            )
        if connectivity.is_connection_error(exc):
            return problem_response(
                503, f"the database does not answer ({connectivity.reason(exc)}): try again"
            )
        _log.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
        return problem_response(
            500, f"unexpected error ({type(exc).__name__}): the server's log has the details"
        )

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(RequestValidationError, on_validation)
    for refused in (TokenRefused, MetricsRefused):
        app.add_exception_handler(refused, on_refused)
    app.add_exception_handler(LookupError, on_lookup)  # an unknown client or job
    app.add_exception_handler(Exception, on_unexpected)
