"""Every active integration has its own job, named after it, syncing that integration only."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select, text, update

from connectors.sandbox.org import Org
from pulse_console.config import Settings
from pulse_console.engine import status
from pulse_console.engine.orchestrator import Orchestrator
from pulse_console.engine.states import JobStatus
from pulse_console.pipelines.registry import PipelineRegistry
from storage.db import Database
from storage.models import Integration, LogEntry
from tests.pipelines.harness import MemorySecrets, Sandbox, add_integration, expected


def _orchestrator(
    database: Database, tmp_path: Path, sandbox: Sandbox, secrets: MemorySecrets
) -> Orchestrator:
    registry = PipelineRegistry()
    registry.register("jira", lambda: sandbox.pipeline())
    return Orchestrator(
        database,
        Settings(client="acme", data_dir=tmp_path),
        registry,
        secret=secrets.get,
        log_dir=tmp_path / "logs",
    )


def _issues_by_integration(database: Database) -> dict[str, set[str]]:
    """The external ids of the active work items each integration stored."""
    with database.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT i.name, w.external_id FROM work_items w"
                " JOIN integrations i ON i.id = w.integration_id WHERE w.active"
            )
        ).all()
    found: dict[str, set[str]] = {}
    for name, external_id in rows:
        found.setdefault(name, set()).add(external_id)
    return found


def test_two_jira_integrations_get_two_jobs_each_syncing_its_own_rows(
    database: Database, tmp_path: Path
) -> None:
    org = Org(7, "tiny")
    first, second = (project.key for project in org.projects[:2])
    sandbox = Sandbox(org)
    secrets = add_integration(database, name="jira-two", config={"projects": [second]})
    add_integration(database, name="jira-one", config={"projects": [first]}, secrets=secrets)
    orch = _orchestrator(database, tmp_path, sandbox, secrets)

    assert orch.ensure_jobs() == ["jira-one", "jira-two"]  # chain order: by name in a source
    orch.step()  # the first job runs, then hands the chain to the second
    orch.step()

    assert [(job.name, job.status) for job in orch.jobs()] == [
        ("jira-one", JobStatus.FINISHED),
        ("jira-two", JobStatus.FINISHED),
    ]
    assert _issues_by_integration(database) == {
        "jira-one": set(expected(org, {first}).issues),
        "jira-two": set(expected(org, {second}).issues),
    }

    assert orch.start("jira-two").ok  # started by its integration's name
    runs = status.list_runs(database, "acme", job="jira-two")
    with database.session() as session:
        logged = set(session.execute(select(LogEntry.job).distinct()).scalars())
    assert [run.job for run in runs] == ["jira-two", "jira-two"]
    assert logged == {"jira-one", "jira-two"}
    orch.shutdown()


def test_a_deactivated_integrations_job_leaves_the_chain_and_keeps_its_history(
    database: Database, tmp_path: Path
) -> None:
    org = Org(7, "tiny")
    sandbox = Sandbox(org)
    secrets = add_integration(database, name="jira-one")
    add_integration(database, name="jira-two", secrets=secrets)
    orch = _orchestrator(database, tmp_path, sandbox, secrets)
    orch.ensure_jobs()
    orch.step()
    assert orch.jobs()[1].status == JobStatus.PENDING  # jira-two holds the chain

    with database.session() as session:
        session.execute(
            update(Integration).where(Integration.name == "jira-two").values(active=False)
        )
    assert orch.ensure_jobs() == []
    assert [job.name for job in orch.jobs()] == ["jira-one"]
    assert not orch.start("jira-two").ok

    with database.session() as session:
        session.execute(
            update(Integration).where(Integration.name == "jira-two").values(active=True)
        )
    assert orch.ensure_jobs() == []  # the same job comes back, with its history
    back = orch.jobs()[1]
    assert (back.name, back.status) == ("jira-two", JobStatus.FINISHED)
    assert len(status.list_runs(database, "acme", job="jira-one")) == 1
    orch.shutdown()
