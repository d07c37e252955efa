"""Probes without a token, and who may call what: tokens, roles, clients, rate limits,
problem+json answers, the audit of writes — over real HTTP."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, select

from pulse_console.config import Settings
from pulse_console.services import api_tokens
from pulse_console.services.service_face import ServiceFace
from storage.db import Database, make_engine
from storage.models import AuditLog
from tests.api.conftest import CLIENT, OTHER, Api, serve

PROBLEM = "application/problem+json"


def test_health_and_ready_answer_without_a_token_and_say_nothing_else(api: Api) -> None:
    with api.http() as http:
        health = http.get("/health")
        ready = http.get("/ready")
    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    assert (ready.status_code, ready.json()) == (200, {"status": "ready"})


def test_ready_is_503_without_detail_when_the_database_does_not_answer(
    settings: Settings, tmp_path: Path
) -> None:
    gone = Database(engine=make_engine("postgresql+psycopg://nobody@127.0.0.1:1/x"), embedded=False)
    server = serve(ServiceFace(gone, settings, log_dir=tmp_path), rate=10, burst=10)
    try:
        import httpx

        answer = httpx.get(f"{server.url}/ready", timeout=30)
    finally:
        server.stop()
    assert (answer.status_code, answer.json()) == (503, {"status": "unavailable"})


def test_no_token_unknown_token_and_revoked_token_are_401_problems(
    api: Api, database: Database
) -> None:
    with api.http() as http:
        missing = http.get(api.path("/jobs"))
    with api.http(token="pulse_not-a-token") as http:
        unknown = http.get(api.path("/jobs"))
    api_tokens.revoke(database, CLIENT, "viewer", actor="t")
    with api.http("viewer") as http:
        revoked = http.get(api.path("/jobs"))
    assert missing.status_code == unknown.status_code == revoked.status_code == 401
    assert missing.headers["content-type"] == PROBLEM
    assert missing.headers["www-authenticate"] == "Bearer"
    body = missing.json()
    assert body["status"] == 401 and body["title"] == "Unauthorized"
    assert "pulse-console token create" in body["detail"]
    assert revoked.json()["detail"] == "the API token is unknown or revoked"


def test_a_token_is_valid_only_for_its_own_client(api: Api) -> None:
    with api.http("other") as http:
        answer = http.get(api.path("/jobs"))
        own = http.get(api.path("/jobs", client=OTHER))
    assert answer.status_code == 403
    assert answer.json()["detail"] == f"token admin-1 is not valid for client {CLIENT!r}"
    assert own.status_code == 200


@pytest.mark.parametrize(
    ("role", "method", "path", "allowed"),
    [
        ("viewer", "POST", "/jobs/x/start", False),
        ("viewer", "POST", "/orchestrator/pause", False),
        ("viewer", "GET", "/log-files/download", False),
        ("viewer", "POST", "/integrations/x/test", False),
        ("user", "POST", "/integrations/x/test", False),
        ("user", "PUT", "/orchestrator/settings/retry.enabled", False),
        ("user", "DELETE", "/log-files/x.log", False),
        ("user", "POST", "/log-files/cleanup?older_than_days=3", False),
        ("user", "POST", "/jobs/x/start", True),
        ("admin", "DELETE", "/log-files/x.log", True),
    ],
)
def test_each_route_needs_its_role(
    api: Api, role: str, method: str, path: str, allowed: bool
) -> None:
    with api.http(role) as http:
        answer = http.request(method, api.path(path), json={"value": False})
    if allowed:
        assert answer.status_code != 403, answer.text
    else:
        assert answer.status_code == 403
        detail = answer.json()["detail"]  # the role rule's line (services.roles.require)
        assert detail.startswith(f"token {role} ({role}) may not ") and "needs role" in detail


def test_a_token_over_its_rate_gets_429_with_retry_after(
    api: Api, database: Database, settings: Settings
) -> None:
    server = serve(api.face, rate=0.5, burst=2)
    try:
        with api.http("viewer") as http:
            codes = [http.get(f"{server.url}{api.path('/jobs')}") for _ in range(3)]
    finally:
        server.stop()
    assert [a.status_code for a in codes] == [200, 200, 429]
    assert codes[2].headers["retry-after"] == "2"
    assert codes[2].headers["content-type"] == PROBLEM
    assert "token viewer is over its rate limit" in codes[2].json()["detail"]


def test_every_write_leaves_an_audit_row_with_the_token_name(api: Api, database: Database) -> None:
    with api.http("user") as http:
        refused = http.post(api.path("/jobs/nope/start"))
    with api.http("viewer") as http:
        http.get(api.path("/jobs"))  # a read: not audited
    assert refused.status_code == 503  # nobody drives the client
    with database.session() as session:
        rows = session.execute(
            select(AuditLog.actor, AuditLog.action, AuditLog.target, AuditLog.details).where(
                AuditLog.action.like("api.%")
            )
        ).all()
    assert rows == [
        ("api:user", "api.post", api.path("/jobs/nope/start"), {"status": 503}),
    ]


def test_unknown_routes_and_bad_parameters_are_problems_not_tracebacks(api: Api) -> None:
    with api.http("viewer") as http:
        missing = http.get("/api/v1/nothing")
        bad = http.get(api.path("/runs?limit=0"))
        unknown_client = http.get(api.path("/jobs", client="nobody"))
    assert missing.status_code == 404 and missing.headers["content-type"] == PROBLEM
    assert bad.status_code == 422
    assert bad.json()["detail"].startswith("query.limit:")
    # a viewer token of acme asks for another client: refused before the lookup
    assert unknown_client.status_code == 403


def test_openapi_schema_and_docs_are_served(api: Api) -> None:
    with api.http() as http:
        schema = http.get("/openapi.json").json()
        docs = http.get("/docs")
    assert docs.status_code == 200
    paths = set(schema["paths"])
    for expected in (
        "/api/v1/clients/{client}/jobs",
        "/api/v1/clients/{client}/jobs/{job}/{action}",
        "/api/v1/clients/{client}/runs/{run_id}",
        "/api/v1/clients/{client}/orchestrator/settings/{key}",
        "/api/v1/clients/{client}/logs",
        "/api/v1/clients/{client}/log-files/download",
        "/api/v1/clients/{client}/integrations/{name}/test",
        "/api/v1/clients/{client}/metrics/dora",
        "/metrics",
        "/ready",
    ):
        assert expected in paths
    assert "HTTPBearer" in schema["components"]["securitySchemes"]


def test_a_server_whose_connections_are_all_busy_answers_503_not_500(
    api: Api, engine: Engine
) -> None:
    schema = engine.dialect.default_schema_name
    tight = create_engine(
        engine.url,
        pool_size=1,
        max_overflow=0,
        pool_timeout=0.2,
        connect_args={"options": f"-csearch_path={schema}"},
    )
    face = ServiceFace(Database(engine=tight, embedded=False), api.face.settings)
    server = serve(face, rate=10, burst=10)
    try:
        with tight.connect(), api.http("viewer") as http:  # the pool's one connection, held
            answer = http.get(f"{server.url}{api.path('/runs')}")
    finally:
        server.stop()
        tight.dispose()
    assert answer.status_code == 503, answer.text
    assert answer.json()["detail"].startswith("the server is busy")
