"""The FastAPI app of the service face, built over one `ServiceFace`.

`build_app(face, rate=…, burst=…)` wires the routers, the problem+json error answers, the
audit of writes and the per-token rate limit; OpenAPI is at `/openapi.json`, its
interactive docs at `/docs`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from pulse_console import __version__
from pulse_console.api import (
    integrations,
    jobs,
    log_files,
    logs,
    metrics,
    orchestrator,
    probes,
    problems,
    progress,
    prometheus,
)
from pulse_console.api.audit_writes import AuditWrites
from pulse_console.api.authz import TokenCache
from pulse_console.api.nul_guard import NulGuard
from pulse_console.api.ratelimit import RateLimiter
from pulse_console.services.service_face import ServiceFace

DEFAULT_RATE = 20.0  # requests a second per token, on average
DEFAULT_BURST = 40


def build_app(
    face: ServiceFace,
    *,
    rate: float = DEFAULT_RATE,
    burst: int = DEFAULT_BURST,
    token_seconds: float = 1.0,
) -> FastAPI:
    hub = progress.ProgressHub(face)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        hub.close()

    app = FastAPI(
        title="Pulse Console API",
        version=__version__,
        description="Jobs, orchestrator, logs, integrations, health and metrics of each "
        "client, its engine's live events over a WebSocket, and Prometheus metrics. "
        "Send `Authorization: Bearer <token>` (`pulse-console token create`).",
        lifespan=lifespan,
        # No OpenTelemetry (metrics are Prometheus's, /metrics): FastAPI's hooks otherwise
        # look for a tracer and a meter provider in os.environ at every request (8 % of
        # serve's CPU under 200 pollers).
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.face = face
    app.state.hub = hub
    app.state.limiter = RateLimiter(rate, burst)
    app.state.tokens = TokenCache(face.authenticate, token_seconds, stamp=face.tokens_stamp)
    problems.install(app)
    problems.document(app)
    app.add_middleware(AuditWrites)
    app.add_middleware(jobs.CachedJobs)  # inside NulGuard: a path with NUL never gets here
    app.add_middleware(NulGuard)
    for module in (
        probes,
        jobs,
        orchestrator,
        logs,
        log_files,
        integrations,
        metrics,
        progress,
        prometheus,
    ):
        app.include_router(module.router)
    return app
