"""Deployments derived from CI runs: which runs count, and what row each one becomes.

The rule is Apache DevLake's (its DORA plugin's ``generateDeploymentCommits`` subtask,
``backend/plugins/dora/tasks/deployment_commits_generator.go`` in apache/incubator-devlake,
checked against its e2e case ``deployment_generator/``), restated here:

- **Which runs.** A run is a deployment when its own type is ``DEPLOYMENT`` or when one of
  its tasks (jobs) is of type ``DEPLOYMENT`` with result ``SUCCESS`` or ``FAILURE`` (a
  skipped deploy job deploys nothing). The run's own result must be one of ``results`` —
  DevLake's is ``SUCCESS``/``FAILURE``, so skipped, cancelled and result-less runs drop out.
  Callers that keep every run (GitHub Actions: cancelled and running deploy runs are kept,
  their status says what they are) pass ``results=None``.
- **In-progress runs** are not special: a running run whose result is already counted (GitLab
  reports FAILURE until it passes) is a deployment, with no finish time yet.
- **Status** is the run's result (upper-case), else its status, else ``UNKNOWN``; the tasks'
  results do not enter it — a pipeline that failed after its deploy jobs passed is a FAILURE.
- **Environment** is the run's own; when it has none, the tasks decide: PRODUCTION if any
  task with a counted result (SUCCESS/FAILURE) is in PRODUCTION, else STAGING, else TESTING,
  else empty. One run deploys to one environment, the most significant its tasks touched.
- **Times.** ``finished_at`` is the run's finish (``None`` while running). ``created_at`` is
  the run's start: ``finished - duration_sec`` when both are known (DevLake's
  ``started_date``, which leaves queued time out), otherwise the run's creation. DevLake
  leaves an unfinished run's start empty; we keep the creation time, because a deployment
  without a time cannot be placed in any period.
- **One row per repository** a run built: its commits (sha, repo, ref) each become a row,
  keyed ``<run id>:<repo>`` as DevLake's ``cicd_deployment_commits.id``; a second commit in
  the same repository replaces the first (the key repeats, as in DevLake's upsert). A commit
  without a named repository is the run's own repository's (a GitHub Actions run's head
  commit) and is keyed by the run id alone.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

DEPLOYMENT = "DEPLOYMENT"
COUNTED_RESULTS: frozenset[str] = frozenset({"SUCCESS", "FAILURE"})
# Most significant first: a run touching several environments deploys to the first found.
ENVIRONMENT_ORDER = ("PRODUCTION", "STAGING", "TESTING")


@dataclass(frozen=True, slots=True)
class CiTask:
    type: str | None = None
    environment: str | None = None
    result: str | None = None


@dataclass(frozen=True, slots=True)
class CiCommit:
    sha: str | None
    repo: str | None = None
    ref: str | None = None


@dataclass(frozen=True, slots=True)
class CiRun:
    id: str
    name: str | None
    result: str | None
    status: str | None
    type: str | None
    environment: str | None
    created_at: datetime | None
    finished_at: datetime | None
    duration_sec: float | None = None
    commits: tuple[CiCommit, ...] = ()
    tasks: tuple[CiTask, ...] = ()


@dataclass(frozen=True, slots=True)
class CiDeployment:
    external_id: str
    run_id: str
    environment: str
    status: str
    sha: str | None
    repo: str | None
    ref: str | None
    created_at: datetime | None
    finished_at: datetime | None


def _upper(value: str | None) -> str:
    return (value or "").upper()


def is_deployment(run: CiRun, results: Collection[str] | None = COUNTED_RESULTS) -> bool:
    if results is not None and _upper(run.result) not in results:
        return False
    return _upper(run.type) == DEPLOYMENT or any(
        _upper(t.type) == DEPLOYMENT and _upper(t.result) in COUNTED_RESULTS for t in run.tasks
    )


def environment(run: CiRun) -> str:
    if run.environment:
        return run.environment
    touched = {_upper(t.environment) for t in run.tasks if _upper(t.result) in COUNTED_RESULTS}
    return next((env for env in ENVIRONMENT_ORDER if env in touched), "")


def started_at(run: CiRun) -> datetime | None:
    if run.finished_at is not None and run.duration_sec is not None:
        return run.finished_at - timedelta(seconds=run.duration_sec)
    return run.created_at


def deployments(
    runs: Iterable[CiRun], results: Collection[str] | None = COUNTED_RESULTS
) -> Iterator[CiDeployment]:
    """Every deployment row the runs make, in run order (see the module docstring)."""
    for run in runs:
        if not is_deployment(run, results):
            continue
        by_repo: dict[str | None, CiCommit] = {}
        for commit in run.commits:
            by_repo[commit.repo] = commit  # a repeated repository replaces: one key
        for repo, commit in by_repo.items():
            yield CiDeployment(
                external_id=run.id if repo is None else f"{run.id}:{repo}",
                run_id=run.id,
                environment=environment(run),
                status=_upper(run.result or run.status or "unknown"),
                sha=commit.sha,
                repo=repo,
                ref=commit.ref,
                created_at=started_at(run),
                finished_at=run.finished_at,
            )
