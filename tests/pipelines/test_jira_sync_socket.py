"""The same sync over a real socket: the sandbox server, httpx's default transport."""

from __future__ import annotations

from connectors.http import RetryPolicy
from connectors.sandbox.credentials import DEMO_JIRA
from connectors.sandbox.faults import ErrorBursts, FaultInjector, FaultScenario, Trigger
from connectors.sandbox.jira import JiraSimulator
from connectors.sandbox.mutations import MutationPlan
from connectors.sandbox.org import Org
from connectors.sandbox.server import SandboxServer
from pulse_console.pipelines.jira.sync import JiraSync
from storage.db import Database
from tests.pipelines.harness import add_integration, context, expected, stored

FAST = {"retry": RetryPolicy(max_attempts=6, base_delay=0.001, max_delay=0.01)}


def test_full_then_incremental_sync_over_a_real_socket(database: Database) -> None:
    org = Org(9, "tiny")
    scenario = FaultScenario(
        seed=4, errors=ErrorBursts(every=11, length=2), resets=Trigger(every=23)
    )
    injector = FaultInjector(scenario, mutate=org.apply)
    with SandboxServer({"jira": JiraSimulator(org, DEMO_JIRA, injector).handle}) as server:
        secrets = add_integration(database, base_url=server.base_urls["jira"])
        JiraSync(http_options=FAST).run(context(database, secrets))
        assert stored(database) == expected(org)

        org.apply(MutationPlan(create=3, update=5, move=2, delete=2))
        result = JiraSync(http_options=FAST).run(context(database, secrets))
        assert result.stats["mode"] == "incremental"
        assert stored(database) == expected(org)
    assert injector.counters.errors > 0 and injector.counters.resets > 0
