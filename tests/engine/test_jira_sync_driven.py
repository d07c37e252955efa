"""The orchestrator driving the real Jira sync (against the sandbox simulator)."""

from __future__ import annotations

from pathlib import Path

from connectors.sandbox.org import Org
from pulse_console.config import Settings
from pulse_console.engine.orchestrator import Orchestrator
from pulse_console.engine.states import JobStatus
from pulse_console.pipelines.registry import PipelineRegistry
from storage.db import Database
from tests.pipelines.harness import INTEGRATION, Sandbox, add_integration, expected, stored


def test_the_orchestrator_runs_jira_sync_from_its_integration_to_finished(
    database: Database, tmp_path: Path
) -> None:
    org = Org(7, "tiny")
    sandbox = Sandbox(org)
    secrets = add_integration(database)
    registry = PipelineRegistry()
    registry.register("jira", lambda: sandbox.pipeline())
    orch = Orchestrator(
        database,
        Settings(client="acme", data_dir=tmp_path),
        registry,
        secret=secrets.get,
        log_dir=tmp_path / "logs",
    )
    assert orch.ensure_jobs() == [INTEGRATION]  # the job is named after its integration
    orch.step()
    job = orch.jobs()[0]
    assert job.status == JobStatus.FINISHED, job.status_reason
    assert stored(database) == expected(org)
    assert orch.start(INTEGRATION).ok  # an incremental second run, forced
    assert orch.jobs()[0].status == JobStatus.FINISHED
    orch.shutdown()
