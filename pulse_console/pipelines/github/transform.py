"""GitHub payloads (validated models) → rows of the canonical schema. Pure functions, no I/O.

Rows are built without the tenant and parent ids that only loading knows
(``client_id``, ``integration_id``, ``repository_id``, ``pull_request_id``); `load` adds them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from connectors.github.models import Deployment, PullRequest, Repository, WorkflowRun
from pulse_console.pipelines import ci_deployments
from pulse_console.pipelines.ci_deployments import DEPLOYMENT, CiCommit, CiRun
from pulse_console.pipelines.work_item_keys import KeyMatcher

Row = dict[str, Any]

KEY_EVIDENCE = ("title", "branch", "commit")
TERMINAL = ("SUCCESS", "FAILURE", "ERROR")


def repository_row(repo: Repository, how: set[str]) -> Row:
    return {
        "external_id": repo.id,
        "full_name": repo.name_with_owner,
        "url": repo.url,
        "default_branch": repo.default_branch,
        "discovered_by": ",".join(sorted(how)),
        "active": True,
    }


def pull_request_row(pr: PullRequest) -> Row:
    return {
        "external_id": pr.id,
        "number": pr.number,
        "title": pr.title,
        "url": pr.url,
        "state": pr.state,
        "author": pr.author.login if pr.author else None,
        "base_branch": pr.base_ref_name,
        "head_branch": pr.head_ref_name,
        "created_at": pr.created_at,
        "updated_at": pr.updated_at,
        "merged_at": pr.merged_at,
        "closed_at": pr.closed_at,
        "merge_commit_sha": pr.merge_commit.oid if pr.merge_commit else None,
        "additions": pr.additions,
        "deletions": pr.deletions,
        "changed_files": pr.changed_files,
        "active": True,
    }


def commit_rows(pr: PullRequest) -> list[Row]:
    rows = []
    for node in pr.commits.nodes if pr.commits else []:
        if node is None:
            continue
        cm = node.commit
        rows.append(
            {
                "sha": cm.oid,
                "author": cm.author_login,
                "authored_at": cm.authored_date,
                "committed_at": cm.committed_date,
                "message": cm.message,
                "additions": cm.additions,
                "deletions": cm.deletions,
            }
        )
    return rows


def review_rows(pr: PullRequest) -> list[Row]:
    return [
        {
            "external_id": review.id,
            "author": review.author.login if review.author else None,
            "state": review.state,
            "submitted_at": review.submitted_at,
        }
        for review in (pr.reviews.nodes if pr.reviews else [])
        if review is not None
    ]


def comment_rows(pr: PullRequest) -> list[Row]:
    """Conversation comments (``issue``) and review-thread comments (``review``)."""
    rows = [
        _comment_row(comment, "issue")
        for comment in (pr.comments.nodes if pr.comments else [])
        if comment is not None
    ]
    for thread in pr.review_threads.nodes if pr.review_threads else []:
        for rc in thread.comments.nodes if thread else []:
            if rc is not None:
                rows.append(_comment_row(rc, "review"))
    return rows


def _comment_row(comment: Any, kind: str) -> Row:
    return {
        "external_id": comment.id,
        "author": comment.author.login if comment.author else None,
        "kind": kind,
        "created_at": comment.created_at,
    }


@dataclass(frozen=True)
class KeyMention:
    """A work-item key a pull request names, and where (``evidence``: title/branch/commit)."""

    pr: PullRequest
    key: str
    evidence: str
    detail: str


def key_mentions(matcher: KeyMatcher, prs: Iterable[PullRequest]) -> list[KeyMention]:
    """Keys in each PR's title, branch and commit messages (a key once per PR's commits)."""
    found: list[KeyMention] = []
    for pr in prs:
        for key in matcher.find(pr.title):
            found.append(KeyMention(pr, key, "title", pr.title or ""))
        for key in matcher.find(pr.head_ref_name):
            found.append(KeyMention(pr, key, "branch", pr.head_ref_name or ""))
        seen: set[str] = set()
        for node in pr.commits.nodes if pr.commits else []:
            if node is None:
                continue
            for key in matcher.find(node.commit.message):
                if key not in seen:
                    seen.add(key)
                    found.append(KeyMention(pr, key, "commit", node.commit.oid))
    return found


def link_row(client_id: int, work_item_id: int, repository: str, mention: KeyMention) -> Row:
    return {
        "client_id": client_id,
        "work_item_id": work_item_id,
        "kind": "pull_request",
        "url": mention.pr.url,
        "repository": repository,
        "pull_request_number": mention.pr.number,
        "evidence": mention.evidence,
        "detail": mention.detail[:500],
    }


def deployment_row(d: Deployment) -> Row:
    """Outcome = the first terminal status (SUCCESS/FAILURE/ERROR) in time order; a later
    INACTIVE (superseded by a newer deployment) does not change what happened."""
    statuses = [s for s in (d.statuses.nodes if d.statuses else []) if s is not None]
    statuses.sort(key=lambda s: s.created_at or s.updated_at or d.created_at)
    terminal = next((s for s in statuses if s.state in TERMINAL), None)
    if terminal is not None:
        status, finished = terminal.state, terminal.created_at or terminal.updated_at
    else:
        live = [s for s in statuses if s.state != "INACTIVE"]
        latest = d.latest_status.state if d.latest_status else None
        status, finished = (live[-1].state if live else latest or d.state or "PENDING"), None
    return {
        "external_id": d.id,
        "environment": d.environment or d.original_environment or "unknown",
        "status": status,
        "sha": d.commit_oid,
        "ref": d.ref.name if d.ref else None,
        "created_at": d.created_at,
        "finished_at": finished,
    }


_ENV = re.compile(r"deploy(?:ment)?[-_ ]?(?:to[-_ ])?(?P<env>[A-Za-z0-9_-]+?)(?:\.ya?ml)?$", re.I)


def is_deploy_run(run: WorkflowRun, workflow: re.Pattern[str]) -> bool:
    """The run belongs to a deploy workflow (its file path or its name matches)."""
    return bool(workflow.search(run.path or "") or workflow.search(run.name or ""))


def _ci_run(run: WorkflowRun) -> CiRun:
    """A deploy workflow's run as a CI run: the sync chose it by its workflow, so it is a
    deployment; its environment is named by the workflow file or the run's name."""
    stem = (run.path or "").rsplit("/", 1)[-1]
    m = _ENV.search(stem) or _ENV.search(run.name or "")
    return CiRun(
        id=f"run:{run.id}",
        name=run.name,
        result=run.conclusion,
        status=run.status,
        type=DEPLOYMENT,
        environment=m.group("env").lower() if m else (run.name or "unknown"),
        created_at=run.created_at,
        finished_at=run.updated_at if run.status == "completed" else None,
        commits=(CiCommit(sha=run.head_sha, ref=run.head_branch),),  # the repository's own
    )


def run_rows(runs: Iterable[WorkflowRun]) -> list[Row]:
    # Every chosen run is kept, running and cancelled ones too: their status says so.
    return [
        {
            "external_id": d.external_id,
            "environment": d.environment,
            "status": d.status,
            "sha": d.sha,
            "ref": d.ref,
            "created_at": d.created_at,
            "finished_at": d.finished_at,
        }
        for d in ci_deployments.deployments(map(_ci_run, runs), results=None)
    ]


def repo_name(value: str | None) -> str | None:
    """``owner/name`` from ``owner/name``, ``https://github.com/owner/name[/pull/1]``."""
    if not value:
        return None
    text_value = value.strip()
    m = re.match(r"^(?:https?://[^/]+/)?([\w.-]+)/([\w.-]+?)(?:\.git)?(?:/.*)?$", text_value)
    if m is None:
        return None
    return f"{m.group(1)}/{m.group(2)}"
