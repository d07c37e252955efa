"""`WS …/progress`: a sandbox Jira sync started through the API streams the engine's events
(the LISTEN/NOTIFY feed the attached console follows) until it is FINISHED."""

from __future__ import annotations

import json
from typing import Any

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from connectors.sandbox.org import Org
from pulse_console.config import Settings
from pulse_console.engine import runtime_settings
from pulse_console.pipelines.registry import PipelineRegistry
from storage.db import Database
from tests.api.conftest import CLIENT, Api, Driver, ensure_client_id
from tests.pipelines.harness import INTEGRATION, Sandbox, add_integration, expected, stored


def ws_url(api: Api, rest: str, client: str = CLIENT) -> str:
    return api.url.replace("http://", "ws://") + api.path(rest, client)


def bearer(api: Api, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api.tokens[role]}"}


def until_done(ws: Any, job: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    while True:
        event = json.loads(ws.recv(timeout=60))
        events.append(event)
        if (
            event["type"] == "JobStatusChanged"
            and event["job"] == job
            and event["previous"] == "RUNNING"
        ):
            return events


def test_a_sync_started_through_the_api_streams_progress_to_finished(
    api: Api, database: Database, settings: Settings
) -> None:
    org = Org(7, "tiny")
    sandbox = Sandbox(org)
    secrets = add_integration(database, secrets=api.secrets)
    with database.session() as session:  # only the API starts it (no tick does)
        runtime_settings.set_setting(
            session, ensure_client_id(database), "orchestrator.paused", True, actor="t"
        )
    registry = PipelineRegistry()
    registry.register("jira", lambda: sandbox.pipeline())
    driver = Driver(database, settings, registry, secret=secrets.get)
    try:
        with (
            connect(ws_url(api, "/progress"), additional_headers=bearer(api, "viewer")) as all_,
            connect(
                ws_url(api, f"/jobs/{INTEGRATION}/progress"),
                additional_headers=bearer(api, "viewer"),
            ) as one,
            connect(
                ws_url(api, "/jobs/another/progress"), additional_headers=bearer(api, "viewer")
            ) as other,
        ):
            with api.http("user") as http:
                started = http.post(api.path(f"/jobs/{INTEGRATION}/start"))
            assert started.status_code == 200, started.text
            events = until_done(all_, INTEGRATION)
            job_events = until_done(one, INTEGRATION)
            with pytest.raises(TimeoutError):
                other.recv(timeout=0.5)  # another job's socket hears nothing of this one
    finally:
        driver.close()
    kinds = [e["type"] for e in events]
    assert events[-1]["status"] == "FINISHED", events[-1]
    assert kinds.index("JobProgress") < len(kinds) - 1
    progress = [e for e in events if e["type"] == "JobProgress"]
    assert progress[-1]["done"] > 0 and progress[-1]["job"] == INTEGRATION
    assert {e.get("job") for e in job_events} == {INTEGRATION}
    assert [e for e in job_events if e["type"] == "JobProgress"] == progress
    assert stored(database) == expected(org)


def test_the_jobs_list_shows_the_running_jobs_latest_progress(
    api: Api, database: Database, settings: Settings
) -> None:
    from tests.engine.conftest import add_jobs
    from tests.engine.scripted import BatchLoader
    from tests.engine.test_processes import wait_for

    add_jobs(database, "acme", ["loader"])
    with database.session() as session:
        runtime_settings.set_setting(
            session, ensure_client_id(database), "orchestrator.paused", True, actor="t"
        )
    loader = BatchLoader(batches=3, size=2, hold_after=1, hold_seconds=20)
    registry = PipelineRegistry(order=())
    registry.register("loader", lambda: loader)
    driver = Driver(database, settings, registry)
    try:
        with api.http("viewer") as http:
            http.get(api.path("/jobs"))  # the feed starts following the client
        with api.http("user") as http:
            assert http.post(api.path("/jobs/loader/start")).status_code == 200
        assert loader.held.wait(15)

        def running() -> Any:
            with api.http("viewer") as http:
                job = http.get(api.path("/jobs")).json()[0]
            return job if job["progress"] is not None else None

        wait_for(running)
        job = running() or {}
        assert job["status"] == "RUNNING" and job["progress"]["done"] >= 1
        with api.http("user") as http:
            assert http.post(api.path("/jobs/loader/stop")).status_code == 200
    finally:
        driver.close()


def test_a_socket_without_a_valid_token_of_the_client_is_refused(api: Api) -> None:
    for headers in ({}, bearer(api, "other"), {"Authorization": "Bearer pulse_nope"}):
        with pytest.raises(InvalidStatus) as refused:
            connect(ws_url(api, "/progress"), additional_headers=headers)
        assert refused.value.response.status_code == 403
