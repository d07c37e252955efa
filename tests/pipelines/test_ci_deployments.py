"""The CI-run → deployment rule in its corners the DevLake reference case does not reach."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from pulse_console.pipelines.ci_deployments import CiCommit, CiRun, CiTask, deployments

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
T1 = datetime(2025, 3, 1, 12, 10, tzinfo=UTC)


BASE = CiRun(
    id="p1",
    name="ci",
    result="SUCCESS",
    status="DONE",
    type=None,
    environment=None,
    created_at=T0,
    finished_at=T1,
    commits=(CiCommit("a1", "repo-a"),),
)


def run(**changes: Any) -> CiRun:
    return replace(BASE, **changes)


def test_the_most_significant_counted_task_environment_wins() -> None:
    tasks = (
        CiTask("DEPLOYMENT", "TESTING", "SUCCESS"),
        CiTask("BUILD", "STAGING", "FAILURE"),
        CiTask("DEPLOYMENT", "PRODUCTION", "SKIPPED"),  # skipped: touches nothing
    )
    [d] = deployments([run(tasks=tasks)])
    assert d.environment == "STAGING"
    [d] = deployments([run(tasks=tasks, environment="prod-eu")])
    assert d.environment == "prod-eu"  # the run's own environment is never overridden


def test_one_row_per_repository_the_last_commit_of_a_repository_wins() -> None:
    commits = (CiCommit("a1", "repo-a", "main"), CiCommit("b1", "repo-b"), CiCommit("a2", "repo-a"))
    got = [
        (d.external_id, d.sha, d.ref)
        for d in deployments([run(type="DEPLOYMENT", commits=commits)])
    ]
    assert got == [("p1:repo-a", "a2", None), ("p1:repo-b", "b1", None)]


def test_an_unnamed_repository_is_keyed_by_the_run_alone() -> None:
    [d] = deployments([run(type="DEPLOYMENT", commits=(CiCommit("a1", ref="main"),))])
    assert (d.external_id, d.repo, d.ref) == ("p1", None, "main")


def test_results_decide_unless_every_run_is_kept() -> None:
    cancelled = run(type="DEPLOYMENT", result="cancelled", finished_at=None, duration_sec=5.0)
    running = run(id="p2", type="DEPLOYMENT", result=None, status="in_progress", finished_at=None)
    assert list(deployments([cancelled, running])) == []
    got = [(d.status, d.created_at, d.finished_at) for d in deployments([cancelled, running], None)]
    assert got == [("CANCELLED", T0, None), ("IN_PROGRESS", T0, None)]


def test_a_duration_moves_the_start_to_finish_minus_duration() -> None:
    [d] = deployments([run(type="DEPLOYMENT", duration_sec=90.5)])
    assert d.created_at == datetime(2025, 3, 1, 12, 8, 29, 500000, tzinfo=UTC)
    assert list(deployments([run()])) == []  # neither the run nor a task is a deployment
