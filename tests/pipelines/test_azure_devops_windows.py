"""azure_devops_sync in windows: projects' work items, repositories' pull requests and
projects' builds and deployments are read several at once, within one rate gate per
integration, each committed with its own checkpoint; a bad ``windows`` is one clear error."""

from __future__ import annotations

import threading
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from connectors.http.gate import RateGate
from connectors.sandbox.azure_devops import AdoOrg, TstuPolicy
from connectors.sandbox.faults import FaultScenario, RateLimit
from pulse_console.pipelines.azure_devops.options import (
    AzureDevOpsConfigError,
    AzureDevOpsSyncOptions,
)
from pulse_console.pipelines.base import IntegrationRef
from storage.testing import seed_tenant
from tests.pipelines.ado_support import (
    add_ado_integration,
    expected,
    make_ctx,
    pipeline,
    simulator,
    snapshot,
)


def threaded(handle: Any, names: dict[str, set[str]]) -> Any:
    """``handle``, noting which threads asked for work items and pull requests."""

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        kind = "wit" if "workitemsbatch" in path else "prs" if "pullrequests" in path else ""
        if kind:
            names.setdefault(kind, set()).add(threading.current_thread().name)
        return handle(request)

    return handler


@pytest.mark.parametrize("windows", [1, 2])
def test_projects_and_repositories_are_windows_read_at_once(engine: Engine, windows: int) -> None:
    seed_tenant(engine)
    integration = add_ado_integration(engine, {"windows": windows})
    org = AdoOrg(7, "tiny", work_items=120, pull_requests=40)  # two projects, two repositories
    names: dict[str, set[str]] = {}

    pipeline(threaded(simulator(org).handle, names)).run(make_ctx(engine, integration))

    assert snapshot(engine) == expected(org)
    assert names["wit"] == {f"ado-wit-{n}" for n in range(windows)}
    assert names["prs"] == {f"ado-prs-{n}" for n in range(windows)}


def test_windows_under_throttling_back_off_together_and_converge(engine: Engine) -> None:
    seed_tenant(engine)
    integration = add_ado_integration(engine, {"windows": 4})
    org = AdoOrg(7, "tiny", work_items=60, pull_requests=12)
    policy = TstuPolicy(limit=20, block_at=60, window_seconds=0.5, delay_seconds=0.001)
    blocked = FaultScenario(rate_limit=RateLimit(after_requests=15, window_seconds=1.0))
    sim = simulator(org, throttle=policy, faults=blocked)
    gate = RateGate()

    pipeline(sim.handle, gate=gate).run(make_ctx(engine, integration))

    assert snapshot(engine) == expected(org)
    # Every 429 the identity met went through the one gate (and paused every window).
    assert gate.limited == sim.faults.counters.rate_limited > 0


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"windows": 0}, "windows must be between 1 and 16"),
        ({"windows": 17}, "windows must be between 1 and 16"),
        ({"windows": "many"}, "invalid Azure DevOps settings"),
    ],
)
def test_bad_window_settings_are_one_clear_error(config: dict[str, object], message: str) -> None:
    ref = IntegrationRef(1, "ado", "azure_devops", "https://dev.azure.com/acme", config)
    with pytest.raises(AzureDevOpsConfigError, match=message):
        AzureDevOpsSyncOptions.from_integration(ref)
