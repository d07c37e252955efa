"""azure_devops_sync under the sandbox's fault scenarios: transient failures are retried, a
long rate limit parks the run with its checkpoints, a body that is not JSON fails the run
with a typed error; every following run converges to the organisation."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from connectors.errors import BadPayload, RateLimited
from connectors.http import RateLimitPolicy
from connectors.http.gate import forget_gates
from connectors.sandbox.azure_devops import AdoOrg
from connectors.sandbox.faults import ErrorBursts, FaultScenario, RateLimit, Timeouts, Trigger
from storage.testing import seed_tenant
from tests.pipelines.ado_support import (
    add_ado_integration,
    expected,
    make_ctx,
    pipeline,
    simulator,
    snapshot,
)


def _org() -> AdoOrg:
    return AdoOrg(7, "tiny", work_items=60, pull_requests=12)


def test_5xx_bursts_timeouts_and_resets_are_retried(engine: Engine) -> None:
    seed_tenant(engine)
    integration = add_ado_integration(engine)
    org = _org()
    scenario = FaultScenario(
        seed=1,
        errors=ErrorBursts(every=11, length=1),
        timeouts=Timeouts(every=17),
        resets=Trigger(every=23),
    )
    sim = simulator(org, faults=scenario)
    result = pipeline(sim.handle).run(make_ctx(engine, integration))
    counters = sim.faults.counters
    assert counters.errors and counters.timeouts and counters.resets
    assert result.retries >= counters.errors + counters.timeouts + counters.resets - 1
    assert snapshot(engine) == expected(org)


def test_a_long_rate_limit_parks_the_run_and_the_next_one_resumes(engine: Engine) -> None:
    seed_tenant(engine)
    integration = add_ado_integration(engine, {"pull_request_page_size": 3})
    org = _org()
    scenario = FaultScenario(rate_limit=RateLimit(after_requests=40, window_seconds=600))
    sim = simulator(org, faults=scenario)
    with pytest.raises(RateLimited) as parked:
        pipeline(sim.handle, rate_limit=RateLimitPolicy(max_wait_seconds=60)).run(
            make_ctx(engine, integration)
        )
    assert parked.value.reset_at is not None
    partial = snapshot(engine)
    assert len(partial["work_items"]) > 0 and len(partial["pull_requests"]) < 12
    fresh = simulator(org)
    forget_gates()  # the reset time has passed: the account's back-off with it
    pipeline(fresh.handle).run(make_ctx(engine, integration))  # after the reset
    assert snapshot(engine) == expected(org)
    assert fresh.calls.get("workitemsbatch", 0) <= 1, "committed work items are not re-read"


def test_a_body_that_is_not_json_fails_typed_and_a_rerun_converges(engine: Engine) -> None:
    seed_tenant(engine)
    integration = add_ado_integration(engine)
    org = _org()
    sim = simulator(org, faults=FaultScenario(seed=3, malformed=Trigger(every=25)))
    with pytest.raises(BadPayload) as bad:
        pipeline(sim.handle).run(make_ctx(engine, integration))
    assert "not valid JSON" in bad.value.message and "\n" not in bad.value.message
    pipeline(simulator(org).handle).run(make_ctx(engine, integration))
    assert snapshot(engine) == expected(org)
