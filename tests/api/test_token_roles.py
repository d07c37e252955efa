"""PostgreSQL, not only the API's Python check, holds a token to its role and its client:
each request's database work runs as the token's own role (migration 0021)."""

from __future__ import annotations

import pytest
from psycopg.errors import InsufficientPrivilege
from sqlalchemy import exc, insert, select
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect as ws_connect

from pulse_console.api import authz, progress
from pulse_console.services import api_tokens
from pulse_console.services.service_face import ServiceFace
from storage.db import Database
from storage.models import Client, Job, JobRun
from storage.testing import scratch_login
from tests.api.conftest import CLIENT, OTHER, Api, serve
from tests.api.test_progress_ws import bearer, ws_url


def caller(api: Api, role: str) -> api_tokens.Caller:
    found = api.face.authenticate(api.tokens[role])
    assert found is not None and found.db_role is not None
    return found


def test_a_viewer_tokens_write_that_skips_the_python_check_is_refused_by_postgresql(
    api: Api, database: Database
) -> None:
    viewer = api.face.acting(caller(api, "viewer")).engine(CLIENT, "api:viewer")
    with pytest.raises(exc.ProgrammingError, match="permission denied"):
        viewer.set_setting("retry.enabled", False)
    admin = api.face.acting(caller(api, "admin")).engine(CLIENT, "api:admin")
    assert admin.set_setting("retry.enabled", False).ok  # the same call, as an admin token
    with api.http("viewer") as http:  # and over HTTP the role rule answers first, in its words
        refused = http.put(api.path("/orchestrator/settings/retry.enabled"), json={"value": 1})
    assert refused.status_code == 403 and "needs role admin" in refused.json()["detail"]


def other_clients_run(database: Database) -> int:
    with database.session() as session:
        client_id = session.execute(select(Client.id).where(Client.name == OTHER)).scalar_one()
        job_id = session.execute(
            insert(Job).values(client_id=client_id, name="jira").returning(Job.id)
        ).scalar_one()
        return session.execute(
            insert(JobRun)
            .values(client_id=client_id, job_id=job_id, trigger="manual", status="FINISHED")
            .returning(JobRun.id)
        ).scalar_one()


def test_a_token_of_one_client_reads_no_row_of_another_even_when_asked_for_it(
    api: Api, database: Database
) -> None:
    run_id = other_clients_run(database)
    assert [r.id for r in api.face.runs(OTHER, None, 10)] == [run_id]  # the serving login sees it
    acme = api.face.acting(caller(api, "admin"))  # an admin token of acme, asking for globex
    assert acme.runs(OTHER, None, 10) == []
    assert acme.run_detail(OTHER, run_id) is None
    with api.http("admin") as http:  # a crafted request: globex's run under acme's path
        assert http.get(api.path(f"/runs/{run_id}")).status_code == 404
        assert http.get(api.path("/runs", OTHER)).status_code == 403


def test_only_a_member_of_pulse_api_may_act_as_a_token(api: Api, database: Database) -> None:
    run_id = other_clients_run(database)
    token = caller(api, "viewer")
    with scratch_login(database.engine, "viewer", all_clients=True) as plain:
        face = ServiceFace(Database(plain, embedded=False), api.face.settings)
        with pytest.raises(InsufficientPrivilege, match="permission denied to set role"):
            face.acting(token).runs(CLIENT, None, 10)
    with scratch_login(database.engine, "viewer", all_clients=True, also=("pulse_api",)) as svc:
        face = ServiceFace(Database(svc, embedded=False), api.face.settings)
        assert [r.id for r in face.runs(OTHER, None, 10)] == [run_id]  # the login sees globex
        assert face.acting(token).runs(OTHER, None, 10) == []  # acting for acme's token: not


@pytest.fixture
def python_check_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    """As if the API's Python check let any token through to any client's path: what is
    left to refuse is PostgreSQL, judging the token's role."""
    monkeypatch.setattr(authz, "check", lambda caller, client, action: None)
    monkeypatch.setattr(progress, "check", lambda caller, client, action: None)


def test_a_token_of_one_client_gets_no_job_status_of_another_even_past_the_python_check(
    api: Api, database: Database, python_check_skipped: None
) -> None:
    other_clients_run(database)  # globex has a job, jira
    assert [j.name for j in api.face.status(OTHER, "t").jobs] == ["jira"]  # the login sees it
    with api.http("other") as http:  # globex's own token: its status read, its feed started
        assert [j["name"] for j in http.get(api.path("/jobs", OTHER)).json()] == ["jira"]
    with ws_connect(ws_url(api, "/progress", OTHER), additional_headers=bearer(api, "other")):
        with api.http("admin") as http:
            assert http.get(api.path("/jobs")).status_code == 200  # acme's own, as ever
            refused = http.get(api.path("/jobs", OTHER))
        assert refused.status_code == 404, refused.text
        assert refused.json()["detail"] == "there is no client 'globex' visible to this caller"
        for rest in ("/progress", "/jobs/jira/progress"):
            with pytest.raises(InvalidStatus) as closed:
                ws_connect(ws_url(api, rest, OTHER), additional_headers=bearer(api, "viewer"))
            assert closed.value.response.status_code == 403


def test_a_socket_closes_once_its_token_is_revoked(api: Api, database: Database) -> None:
    server = serve(api.face, token_seconds=0.2)  # PostgreSQL asked again every 0.2 s
    try:
        url = server.url.replace("http://", "ws://") + api.path("/progress")
        with ws_connect(url, additional_headers=bearer(api, "viewer")) as ws:
            with pytest.raises(TimeoutError):
                ws.recv(timeout=0.5)  # open, and quiet: no event yet
            api_tokens.revoke(database, CLIENT, "viewer", actor="t")  # its role is dropped
            with pytest.raises(ConnectionClosed) as closed:
                ws.recv(timeout=30)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
    finally:
        server.stop()
