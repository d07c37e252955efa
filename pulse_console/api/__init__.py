"""The service face: HTTP + WebSocket API, Prometheus metrics (`pulse-console serve`).

Over the same services the console and the CLI use (`services.service_face.ServiceFace`),
never a second implementation of a rule: job controls go through `EngineService.control`
(refusals in `controls.why_not`'s words), live events are the engine's LISTEN/NOTIFY feed.

Modules: `app` (builds the FastAPI app from its routers), `server` (uvicorn on a thread:
`serve`, `worker --serve`, tests), `problems` (RFC 9457 problem+json, one line, redacted),
`authz` (bearer token → caller; the one role rule), `ratelimit` (token bucket per token),
`audit_writes` (an audit row per write request), `jobs`, `orchestrator`, `logs`,
`log_files`, `integrations`, `metrics` (JSON routers), `progress` (the WebSocket feed),
`prometheus` (`/metrics`), `probes` (`/health`, `/ready`).
"""
