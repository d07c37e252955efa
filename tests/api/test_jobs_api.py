"""Jobs, their controls, runs and the orchestrator over HTTP: controls reach the process
that drives the client through the same control path as the console's, and a refusal is
`controls.why_not`'s line."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from pulse_console.api import progress
from pulse_console.config import Settings
from pulse_console.engine import runtime_settings
from pulse_console.engine.controls import Control, why_not
from pulse_console.engine.service import EngineStatus, PoolService
from pulse_console.pipelines.registry import PipelineRegistry
from pulse_console.services import api_tokens
from pulse_console.services.service_face import ServiceFace
from storage.db import Database
from storage.models import AuditLog, Setting
from tests.api.conftest import CLIENT, Api, Driver, ensure_client_id
from tests.engine.conftest import add_jobs
from tests.engine.scripted import BatchLoader
from tests.engine.test_processes import wait_for


@pytest.fixture
def driven(api: Api, database: Database, settings: Settings) -> Iterator[Driver]:
    """Job `loader` of acme, driven by an orchestrator that is paused (no tick starts it)."""
    add_jobs(database, CLIENT, ["loader"])
    with database.session() as session:
        runtime_settings.set_setting(
            session, ensure_client_id(database), "orchestrator.paused", True, actor="t"
        )
    registry = PipelineRegistry(order=())
    registry.register("loader", lambda: BatchLoader(batches=2, size=2))
    driver = Driver(database, settings, registry)
    try:
        yield driver
    finally:
        driver.close()


def status_of(api: Api, job: str, token: str | None = None) -> str:
    with api.http("viewer", token) as http:
        jobs = http.get(api.path("/jobs")).json()
    return str(next(j["status"] for j in jobs if j["name"] == job))


def test_the_jobs_list_has_status_reason_and_next_run(api: Api, database: Database) -> None:
    add_jobs(database, CLIENT, ["tickets", "code"])
    with api.http("viewer") as http:
        answer = http.get(api.path("/jobs"))
    assert answer.status_code == 200
    jobs = answer.json()
    assert [j["name"] for j in jobs] == ["tickets", "code"]
    assert set(jobs[0]) >= {"status", "reason", "next_run_at", "retry_count", "progress"}
    assert jobs[0]["status"] == "PENDING" and jobs[0]["progress"] is None


def test_a_control_with_nobody_driving_the_client_fails_with_the_cli_line(
    api: Api, database: Database
) -> None:
    add_jobs(database, CLIENT, ["loader"])
    with api.http("user") as http:
        answer = http.post(api.path("/jobs/loader/start"))
    assert answer.status_code == 503
    assert answer.json()["detail"].startswith(
        "no worker or console drives client acme right now; start `pulse-console worker`"
    )


def test_controls_reach_the_driver_and_refusals_are_why_not(
    api: Api, driven: Driver, database: Database
) -> None:
    jobs = driven.orchestrator.jobs()
    expected = why_not(Control.RESUME, "loader", jobs, paused=True)
    with api.http("user") as http:
        refused = http.post(api.path("/jobs/loader/resume"))
        assert refused.status_code == 409
        assert (
            refused.json()["detail"]
            == expected
            == "loader is PENDING, not PAUSED: nothing to resume"
        )
        paused = http.post(api.path("/jobs/loader/pause"))
        assert paused.status_code == 200, paused.text
        assert paused.json()["ok"] is True and paused.json()["mode"] == "attached"
        assert status_of(api, "loader") == "PAUSED"
        start = http.post(api.path("/jobs/loader/start"))
        assert start.status_code == 409
        assert start.json()["detail"] == "loader is PAUSED: resume it instead of starting it"
        assert http.post(api.path("/jobs/loader/resume")).status_code == 200
    wait_for(lambda: status_of(api, "loader") == "FINISHED")
    with database.session() as session:
        actors = set(
            session.execute(
                select(AuditLog.actor).where(AuditLog.action.in_(["job.pause", "job.resume"]))
            ).scalars()
        )
    assert actors == {"api:user"}  # the orchestrator audits the control with the token's name


def test_start_runs_the_job_and_its_runs_and_detail_are_listed(api: Api, driven: Driver) -> None:
    with api.http("user") as http:
        started = http.post(api.path("/jobs/loader/start"))
    assert started.status_code == 200, started.text
    wait_for(lambda: status_of(api, "loader") == "FINISHED")
    with api.http("viewer") as http:
        runs = http.get(api.path("/runs"), params={"job": "loader"}).json()
        assert [(r["job"], r["status"], r["records"]) for r in runs] == [("loader", "FINISHED", 4)]
        detail = http.get(api.path(f"/runs/{runs[0]['id']}")).json()
        assert detail["checkpoint_after"] is not None and "stats" in detail
        missing = http.get(api.path("/runs/999999"))
    assert missing.status_code == 404
    assert missing.json()["detail"] == "client 'acme' has no run 999999"


def test_set_active_and_stop_go_through_the_same_path(api: Api, driven: Driver) -> None:
    with api.http("user") as http:
        active = http.post(api.path("/jobs/loader/set-active"))
        stop = http.post(api.path("/jobs/loader/stop"))
    assert active.status_code == 200, active.text
    assert stop.status_code == 409
    assert stop.json()["detail"] == "loader is PENDING, not running"


def test_orchestrator_status_controls_and_settings(
    api: Api, driven: Driver, database: Database
) -> None:
    with api.http("viewer") as http:
        status = http.get(api.path("/orchestrator")).json()
        settings = http.get(api.path("/orchestrator/settings")).json()
    assert status["state"] == "paused" and status["leader"].startswith("test-driver:")
    assert settings["orchestrator.paused"] is True
    with api.http("user") as http:
        tick = http.post(api.path("/orchestrator/start"))
        resumed = http.post(api.path("/orchestrator/resume"))
        again = http.post(api.path("/orchestrator/resume"))
    assert tick.status_code == 409
    assert tick.json()["detail"] == "the orchestrator is paused: resume it first"
    assert resumed.status_code == 200
    assert again.json()["detail"] == "the orchestrator is already running"
    with api.http("admin") as http:
        saved = http.put(api.path("/orchestrator/settings/retry.max_attempts"), json={"value": 7})
        bad = http.put(
            api.path("/orchestrator/settings/retry.max_attempts"), json={"value": "many"}
        )
    assert saved.status_code == 200, saved.text
    assert driven.orchestrator.policy().max_attempts == 7  # the driver applies it at once
    assert bad.status_code == 409 and "retry.max_attempts" in bad.json()["detail"]


def test_a_setting_written_with_nobody_driving_is_stored_for_the_next_driver(
    api: Api, database: Database, settings: Settings
) -> None:
    with api.http("admin") as http:
        saved = http.put(api.path("/orchestrator/settings/retry.enabled"), json={"value": False})
        status = http.get(api.path("/orchestrator")).json()
    assert saved.status_code == 200
    assert "applies when a worker drives the client" in saved.json()["message"]
    assert status["settings"]["retry.enabled"] is False and status["state"] == "idle"
    with database.session() as session:
        row = session.execute(select(Setting).where(Setting.key == "retry.enabled")).scalar_one()
        assert (row.value, row.updated_by) == (False, "api:admin")
    attached = PoolService(database, settings, PipelineRegistry())
    assert attached.status().settings["retry.enabled"] is False


def test_many_pollers_share_one_status_read(
    api: Api, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_jobs(database, CLIENT, ["loader"])
    viewers = [api.tokens["viewer"]]  # pollers with tokens of their own, of one role
    viewers += [api_tokens.create(database, CLIENT, "viewer", actor="t")[0] for _ in range(3)]
    reads: list[str | None] = []
    status = ServiceFace.status

    def counted(face: ServiceFace, *args: str) -> EngineStatus:
        reads.append(face.role)
        return status(face, *args)

    monkeypatch.setattr(ServiceFace, "status", counted)
    monkeypatch.setattr(progress, "STATUS_SECONDS", 60.0)
    with ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(lambda n: status_of(api, "loader", viewers[n % 4]), range(40)))
    assert answers == ["PENDING"] * 40
    assert len(reads) == 1 and reads[0] is not None  # once, as a token's own role
    assert status_of(api, "loader", api.tokens["admin"]) == "PENDING"
    assert len(reads) == 2  # another role reads for itself


def test_an_engine_event_from_another_process_refreshes_the_jobs_list_at_once(
    api: Api, driven: Driver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(progress, "STATUS_SECONDS", 60.0)  # only an event can refresh it
    assert status_of(api, "loader") == "PENDING"
    assert driven.orchestrator.pause("loader").ok  # not through the API: NOTIFY tells it
    wait_for(lambda: status_of(api, "loader") == "PAUSED", timeout=10)
