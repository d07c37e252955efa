"""The socket server: same bytes as in-process, real timeouts and resets, clean stop."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time

import httpx
import pytest

from connectors.sandbox.credentials import DEMO_JIRA
from connectors.sandbox.faults import FaultInjector, FaultScenario
from connectors.sandbox.jira import JiraSimulator
from connectors.sandbox.org import Org
from connectors.sandbox.serve import build
from connectors.sandbox.server import SandboxServer
from tests.sandbox.conftest import jira_client

AUTH = (DEMO_JIRA.email, DEMO_JIRA.api_token)


def test_same_data_over_http_and_in_process(small_org_readonly: Org) -> None:
    sim = JiraSimulator(small_org_readonly, DEMO_JIRA)
    with SandboxServer({"jira": sim.handle}) as server:
        base = server.base_urls["jira"]
        assert base.startswith("http://127.0.0.1:") and base.endswith("/jira")
        body = {"jql": "project = ANA", "fields": ["*all"], "expand": "changelog", "maxResults": 20}
        with httpx.Client(base_url=base, auth=AUTH) as client:
            over_socket = client.post("/rest/api/3/search/jql", json=body)
            token = over_socket.json()["nextPageToken"]
            second = client.post("/rest/api/3/search/jql", json={**body, "nextPageToken": token})
            assert second.status_code == 200
            issue = over_socket.json()["issues"][0]
            assert issue["self"].startswith(base + "/rest/api/3/issue/")
            assert client.get("/rest/api/3/myself", auth=("x", "y")).status_code == 401
        with jira_client(sim) as local:
            in_process = local.post("/rest/api/3/search/jql", json=body).json()
        assert [i["id"] for i in in_process["issues"]] == [
            i["id"] for i in over_socket.json()["issues"]
        ]
        with httpx.Client() as raw:
            assert raw.get(base.rsplit("/", 1)[0] + "/nothing").status_code == 404


def test_timeout_and_reset_are_real_network_faults(small_org_readonly: Org) -> None:
    scenario = FaultScenario.model_validate(
        {"timeouts": {"every": 2, "hang_seconds": 5}, "resets": {"every": 3}}
    )
    injector = FaultInjector(scenario)
    sim = JiraSimulator(small_org_readonly, DEMO_JIRA, injector)
    with (
        SandboxServer({"jira": sim.handle}) as server,
        httpx.Client(base_url=server.base_urls["jira"], auth=AUTH, timeout=0.5) as client,
    ):
        assert client.get("/rest/api/3/myself").status_code == 200
        with pytest.raises(httpx.ReadTimeout):
            client.get("/rest/api/3/myself")
        with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
            client.get("/rest/api/3/myself")
    assert injector.counters.timeouts == 1 and injector.counters.resets == 1


def test_build_from_serve_arguments() -> None:
    args = argparse.Namespace(seed=3, size="tiny", host="127.0.0.1", port=0, scenario=None)
    server, org, _ = build(args)
    with server, httpx.Client(base_url=server.base_urls["jira"], auth=AUTH) as client:
        assert client.get("/rest/api/3/project/search").json()["total"] == len(org.projects)


def test_python_m_serve_prints_urls_and_stops_on_sigterm() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "connectors.sandbox", "--size", "tiny", "--seed", "2"],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(5)]
        jira_line = next(line for line in lines if "Jira" in line)
        url = jira_line.split()[1]
        deadline = time.time() + 10
        while True:
            try:
                r = httpx.get(url + "/rest/api/3/myself", auth=AUTH)
                break
            except httpx.ConnectError:
                assert time.time() < deadline
                time.sleep(0.05)
        assert r.status_code == 200
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
