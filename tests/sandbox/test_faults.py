"""Each injected fault happens when the scenario says, and is counted."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from connectors.sandbox.credentials import DEMO_JIRA
from connectors.sandbox.faults import FaultInjector, FaultScenario
from connectors.sandbox.jira import JiraSimulator
from connectors.sandbox.org import Org
from connectors.sandbox.ratelimit import WindowBudget
from tests.sandbox.conftest import jira_client


def _sim(
    org: Org, scenario: dict[str, object], **kw: object
) -> tuple[JiraSimulator, FaultInjector]:
    injector = FaultInjector(FaultScenario.model_validate(scenario), mutate=org.apply, **kw)  # type: ignore[arg-type]
    return JiraSimulator(org, DEMO_JIRA, injector), injector


def test_rate_limit_after_n_requests_with_jira_headers(small_org_readonly: Org) -> None:
    now = [1_700_000_000.0]
    sim, inj = _sim(
        small_org_readonly,
        {"rate_limit": {"after_requests": 3, "window_seconds": 60}},
        clock=lambda: now[0],
    )
    with jira_client(sim) as client:
        assert [client.get("/rest/api/3/myself").status_code for _ in range(3)] == [200] * 3
        limited = client.get("/rest/api/3/myself")
        assert limited.status_code == 429
        assert limited.headers["retry-after"] == "60"
        assert (
            limited.headers["x-ratelimit-limit"] == "3"
            and limited.headers["x-ratelimit-remaining"] == "0"
        )
        assert limited.headers["ratelimit-reason"].startswith("jira-")
        assert (
            limited.headers["x-ratelimit-reset"].endswith("Z")
            and len(limited.headers["x-ratelimit-reset"]) == 17
        )
        now[0] += 61
        assert client.get("/rest/api/3/myself").status_code == 200
    assert inj.counters.rate_limited == 1 and inj.counters.requests == 5


def test_error_bursts(small_org_readonly: Org) -> None:
    sim, inj = _sim(
        small_org_readonly, {"errors": {"every": 5, "length": 2, "status": 503, "retry_after": 7}}
    )
    with jira_client(sim) as client:
        codes = [client.get("/rest/api/3/myself").status_code for _ in range(12)]
    assert codes == [200, 200, 200, 200, 503, 503, 200, 200, 200, 503, 503, 200]
    assert inj.counters.errors == 4


def test_error_bursts_let_a_request_through_after_per_request_failures(
    small_org_readonly: Org,
) -> None:
    # Every request is in a burst; one URL is still let through after two failures in a row.
    sim, inj = _sim(small_org_readonly, {"errors": {"every": 1, "per_request": 2}})
    with jira_client(sim) as client:
        mine = [client.get("/rest/api/3/myself").status_code for _ in range(4)]
        other = client.get("/rest/api/3/project/search").status_code
    assert mine == [503, 503, 200, 503] and other == 503
    assert inj.counters.errors == 4


def test_timeouts_resets_and_latency_in_process(small_org_readonly: Org) -> None:
    slept: list[float] = []
    sim, inj = _sim(
        small_org_readonly,
        {
            "timeouts": {"every": 2},
            "resets": {"every": 3},
            "latency": {"fixed_ms": 5, "jitter_ms": 10},
        },
        sleep=slept.append,
    )
    with jira_client(sim) as client:
        assert client.get("/rest/api/3/myself").status_code == 200
        with pytest.raises(httpx.ReadTimeout):
            client.get("/rest/api/3/myself")
        with pytest.raises(httpx.ReadError):
            client.get("/rest/api/3/myself")
    assert inj.counters.timeouts == 1 and inj.counters.resets == 1 and inj.counters.latency == 3
    assert all(0.005 <= s <= 0.015 for s in slept)


def test_truncated_and_malformed_bodies(small_org_readonly: Org) -> None:
    sim, inj = _sim(small_org_readonly, {"truncated": {"every": 2}, "malformed": {"every": 3}})
    with jira_client(sim) as client:
        bodies = [client.get("/rest/api/3/status") for _ in range(3)]
    json.loads(bodies[0].content)
    for broken in bodies[1:]:
        with pytest.raises(json.JSONDecodeError):
            json.loads(broken.content)
    assert inj.counters.truncated == 1 and inj.counters.malformed == 1


def test_probabilistic_faults_are_seeded(small_org_readonly: Org) -> None:
    def run() -> list[int]:
        sim, _ = _sim(small_org_readonly, {"seed": 3, "errors": {"probability": 0.3}})
        with jira_client(sim) as client:
            return [client.get("/rest/api/3/myself").status_code for _ in range(30)]

    first = run()
    assert first == run() and max(first) >= 500 and min(first) == 200


def test_scheduled_mutation_and_scenario_file(tmp_path: Path) -> None:
    org = Org(4, "tiny")
    path = tmp_path / "scenario.toml"
    path.write_text(
        """
paths = ["/rest/api/3/search"]
[[mutations]]
after_requests = 1
plan = { update = 2, create = 1 }
"""
    )
    scenario = FaultScenario.load(path)
    injector = FaultInjector(scenario, mutate=org.apply)
    with jira_client(JiraSimulator(org, DEMO_JIRA, injector)) as client:
        client.get("/rest/api/3/myself")
        assert org.version == 0
        client.get("/rest/api/3/myself")
    assert org.version == 1 and injector.counters.mutations == 1


def test_window_budget_points() -> None:
    now = [0.0]
    budget = WindowBudget(5000, 3600, clock=lambda: now[0])
    d = budget.consume(4999)
    assert d.allowed and d.remaining == 1 and d.near_limit
    refused = budget.consume(2)
    assert not refused.allowed and refused.retry_after == 3600 and refused.used == 4999
