"""azure_devops_sync under the service's limits: WIQL windows over the id limit are split,
throttling (delayed 200s with Retry-After, 429 TF400733) is waited out, and the PAT never
reaches logs, errors or the database."""

from __future__ import annotations

import base64
import logging

import pytest
from sqlalchemy import Engine, text

from connectors.errors import AuthError
from connectors.sandbox.azure_devops import AdoOrg, TstuPolicy
from connectors.sandbox.faults import FaultScenario, RateLimit
from pulse_console.pipelines.base import Progress
from storage.testing import seed_tenant
from tests.pipelines.ado_support import (
    PAT,
    add_ado_integration,
    expected,
    make_ctx,
    pipeline,
    simulator,
    snapshot,
)


def test_a_window_over_the_wiql_limit_is_split_and_completes(engine: Engine) -> None:
    seed_tenant(engine)
    integration = add_ado_integration(engine)
    org = AdoOrg(7, "tiny", work_items=150, pull_requests=10)
    sim = simulator(org, wiql_limit=20)  # the service's 20,000, scaled down
    result = pipeline(sim.handle).run(make_ctx(engine, integration))
    assert result.stats["wiql_splits"] > 0
    assert snapshot(engine)["work_items"] == expected(org)["work_items"]


def test_throttled_and_blocked_answers_are_waited_out(engine: Engine) -> None:
    seed_tenant(engine)
    integration = add_ado_integration(engine)
    org = AdoOrg(7, "tiny", work_items=60, pull_requests=12)
    policy = TstuPolicy(limit=20, block_at=60, window_seconds=0.5, delay_seconds=0.001)
    blocked = FaultScenario(rate_limit=RateLimit(after_requests=15, window_seconds=1.0))
    sim = simulator(org, throttle=policy, faults=blocked)
    reports: list[Progress] = []
    result = pipeline(sim.handle).run(make_ctx(engine, integration, reports=reports))
    assert snapshot(engine) == expected(org)
    assert result.stats["throttled_responses"] > 0  # delayed 200s with X-RateLimit-Delay
    assert sim.faults.counters.rate_limited > 0  # 429 TF400733 with Retry-After
    assert result.rate_limit_waits > 0
    # Progress carries totals and the throttling state (the console shows both).
    assert any(r.total and r.phase.endswith("work items") for r in reports)
    assert any(r.rate_limit_until is not None for r in reports)
    assert any("TSTU remaining" in r.message for r in reports)
    assert isinstance(result.stats["points_limit"], int)


def test_the_pat_never_reaches_logs_errors_or_the_database(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    seed_tenant(engine)
    integration = add_ado_integration(engine)
    org = AdoOrg(7, "tiny", work_items=30, pull_requests=5)
    caplog.set_level(logging.DEBUG)
    pipeline(simulator(org).handle).run(make_ctx(engine, integration))
    with pytest.raises(AuthError) as refused:
        pipeline(simulator(org).handle).run(make_ctx(engine, integration, token="wrong-" + PAT))
    encoded = base64.b64encode(f":{PAT}".encode()).decode()
    assert "sign-in page" in refused.value.message
    for secret in (PAT, encoded):
        assert secret not in caplog.text
        assert secret not in str(refused.value)
    with engine.connect() as conn:
        tables = conn.execute(
            text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
        ).scalars()
        for table in list(tables):
            dump = conn.execute(text(f"SELECT string_agg(t::text, '') FROM \"{table}\" t")).scalar()
            assert PAT not in (dump or ""), table
