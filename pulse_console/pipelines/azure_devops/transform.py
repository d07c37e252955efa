"""Azure DevOps payloads → canonical rows (pure functions, no I/O).

Row dicts carry every column but ``client_id``/``integration_id`` and the foreign keys the
loader resolves (``work_item_id``, ``repository_id``, ``pull_request_id``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from connectors.azure_devops.models import (
    Build,
    EnvironmentDeploymentRecord,
    GitCommit,
    GitRepository,
    PullRequest,
    ReleaseDeployment,
    Thread,
    WorkItem,
    WorkItemField,
    WorkItemRevision,
    WorkItemType,
    parse_ado_datetime,
)

SOURCE = "azure_devops"

# WorkItemStateColor.category → our status category key (Jira's new/indeterminate/done), so
# the default flow mapping is proposed as for Jira. "Resolved" is implemented but not yet
# verified: still in progress. https://learn.microsoft.com/azure/devops/boards/work-items/workflow-and-state-categories
STATE_CATEGORY = {
    "Proposed": "new",
    "InProgress": "indeterminate",
    "Resolved": "indeterminate",
    "Completed": "done",
    "Removed": "done",
}

# Revision fields whose changes become transitions: (reference name, our field, index).
TRACKED = (
    ("System.State", "status", 0),
    ("System.AssignedTo", "assignee", 1),
    ("System.BoardColumn", "Board Column", 2),
    ("System.TeamProject", "project", 3),
)
REVISION_FIELDS = (
    "System.Id",
    "System.Rev",
    "System.ChangedDate",
    "System.ChangedBy",
    "System.TeamProject",
    "System.WorkItemType",
    "System.State",
    "System.AssignedTo",
    "System.BoardColumn",
)

# Reviewer votes (IdentityRefWithVote.vote) as review states.
# https://learn.microsoft.com/rest/api/azure/devops/git/pull-request-reviewers/list?view=azure-devops-rest-7.1
VOTE_STATES = {
    10: "APPROVED",
    5: "APPROVED_WITH_SUGGESTIONS",
    -5: "WAITING_FOR_AUTHOR",
    -10: "REJECTED",
}
PR_STATES = {"active": "OPEN", "completed": "MERGED", "abandoned": "CLOSED"}
# Release deploymentStatus / TaskResult → our deployment status (GitHub's vocabulary).
DEPLOYMENT_STATUS = {
    "succeeded": "SUCCESS",
    "partiallysucceeded": "SUCCESS",
    "succeededwithissues": "SUCCESS",
    "failed": "FAILURE",
    "canceled": "CANCELLED",
    "abandoned": "CANCELLED",
    "skipped": "SKIPPED",
    "inprogress": "IN_PROGRESS",
    "notdeployed": "PENDING",
    "undefined": "PENDING",
}
_PR_ARTIFACT = re.compile(
    r"^vstfs:///Git/PullRequestId/(?P<proj>[^%/]+)%2F(?P<repo>[^%/]+)%2F(?P<pr>\d+)$", re.I
)


@dataclass(frozen=True)
class RepoInfo:
    """A synced repository: our row id, ``project/name`` and its web URL."""

    id: int
    full_name: str
    url: str


# -- metadata ----------------------------------------------------------------------------------


def status_rows(types: list[WorkItemType]) -> list[dict[str, Any]]:
    """One status per (type, state): the same name may sit in different categories."""
    return [
        {
            "external_id": f"{t.name}/{s.name}",
            "name": s.name,
            "category": STATE_CATEGORY.get(s.category or "", "indeterminate"),
            "category_name": s.category,
            "raw": s.model_dump(mode="json", by_alias=True),
        }
        for t in types
        for s in t.states
    ]


def issue_type_rows(types: list[WorkItemType]) -> list[dict[str, Any]]:
    return [
        {
            "external_id": t.reference_name or t.name,
            "name": t.name,
            "subtask": t.name.lower() == "task",
            "raw": {"name": t.name, "referenceName": t.reference_name},
        }
        for t in types
    ]


def repository_row(project: str, repo: GitRepository) -> dict[str, Any]:
    return {
        "external_id": repo.id,
        "full_name": f"{project}/{repo.name}",
        "url": repo.web_url or repo.url,
        "default_branch": repo.default_branch,
        "discovered_by": "project",
        "active": not bool(repo.is_disabled),
    }


# -- work items --------------------------------------------------------------------------------


def _person(value: Any) -> str | None:
    """An identity field: an IdentityRef object, or ``Name <email>`` text."""
    if isinstance(value, dict):
        name = value.get("displayName") or value.get("uniqueName")
        return str(name) if name else None
    if isinstance(value, str) and value:
        return value.split(" <", 1)[0]
    return None


def _time(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    return parse_ado_datetime(value)


def field_rows(fields: list[WorkItemField]) -> list[dict[str, Any]]:
    return [
        {
            "external_id": f.reference_name,
            "name": f.name,
            "custom": is_custom(f.reference_name),
            "schema": {"type": f.type, "usage": f.usage},
        }
        for f in fields
    ]


def is_custom(reference_name: str) -> bool:
    """Fields not of the system or the Microsoft processes (``Custom.*``, ``WEF_*`` …)."""
    return not reference_name.startswith(("System.", "Microsoft.VSTS."))


def work_item_row(item: WorkItem, names: dict[str, str]) -> dict[str, Any]:
    """``names``: field reference name → display name (``_apis/wit/fields``). Custom fields
    are stored by display name, and the area and iteration paths beside them."""
    f = item.fields
    custom = {names.get(ref, ref): value for ref, value in sorted(f.items()) if is_custom(ref)}
    for ref in ("System.AreaPath", "System.IterationPath"):
        if f.get(ref) is not None:
            custom[names.get(ref, ref)] = f[ref]
    priority = f.get("Microsoft.VSTS.Common.Priority")
    return {
        "source": SOURCE,
        "external_id": str(item.id),
        "key": str(item.id),
        "project_key": f.get("System.TeamProject"),
        "type": f.get("System.WorkItemType"),
        "status": f.get("System.State"),
        "priority": None if priority is None else str(priority),
        "summary": f.get("System.Title"),
        "assignee": _person(f.get("System.AssignedTo")),
        "created_at": _time(f.get("System.CreatedDate")),
        "updated_at": _time(f.get("System.ChangedDate")),
        "resolved_at": _time(f.get("Microsoft.VSTS.Common.ClosedDate")),
        "custom_fields": custom,
        "raw": item.model_dump(mode="json", by_alias=True, exclude_none=True),
        "active": True,
    }


def changed_at(item: WorkItem) -> datetime | None:
    return _time(item.fields.get("System.ChangedDate"))


@dataclass(frozen=True)
class PullRequestLink:
    """A work item ↔ pull request link found on either side."""

    work_item: int
    repository_id: str
    pull_request: int
    evidence: str  # artifact_link (work item relation) | pr_work_items (PR's list)


def artifact_links(item: WorkItem) -> list[PullRequestLink]:
    """``ArtifactLink`` relations to ``vstfs:///Git/PullRequestId/{project}%2F{repo}%2F{id}``.

    https://learn.microsoft.com/azure/devops/boards/queries/link-type-reference#external-link-type
    """
    out = []
    for rel in item.relations or []:
        m = _PR_ARTIFACT.match(rel.url) if rel.rel == "ArtifactLink" else None
        if m:
            out.append(PullRequestLink(item.id, m["repo"].lower(), int(m["pr"]), "artifact_link"))
    return out


def revision_changes(
    rev: WorkItemRevision, previous: dict[str, Any] | None
) -> list[dict[str, Any]]:
    """Transitions of one revision against its predecessor's tracked fields. The first
    revision (creation) and a revision whose predecessor we never saw yield none: the state
    a work item was created in is never a transition row (as for Jira)."""
    if previous is None or rev.rev <= 1:
        return []
    f = rev.fields
    when = _time(f.get("System.ChangedDate"))
    if when is None:
        return []
    author = _person(f.get("System.ChangedBy"))
    rows = []
    for ref, name, index in TRACKED:
        before, after = _value(previous.get(ref)), _value(f.get(ref))
        if before != after:
            rows.append(
                {
                    "external_id": f"{rev.id}.{rev.rev}",
                    "item_index": index,
                    "field": name,
                    "field_id": ref,
                    "from_value": before,
                    "to_value": after,
                    "from_id": None,
                    "to_id": None,
                    "author": author,
                    "changed_at": when,
                }
            )
    return rows


def _value(value: Any) -> str | None:
    if isinstance(value, dict):
        return _person(value)
    return None if value is None else str(value)


def head_fields(rev: WorkItemRevision) -> dict[str, Any]:
    return {ref: _value(rev.fields.get(ref)) for ref, _, _ in TRACKED}


# -- pull requests -----------------------------------------------------------------------------


@dataclass
class PullRequestBundle:
    """A pull request with what hangs off it (one call each)."""

    pr: PullRequest
    threads: list[Thread]
    commits: list[GitCommit]
    work_items: list[int]


def pull_request_row(b: PullRequestBundle, repo: RepoInfo) -> dict[str, Any]:
    pr = b.pr
    state = PR_STATES.get(pr.status.lower(), pr.status.upper())
    stamps = [pr.creation_date, pr.closed_date] + [
        c.published_date for t in b.threads for c in t.comments if c.published_date
    ]
    return {
        "external_id": str(pr.pull_request_id),
        "number": pr.pull_request_id,
        "title": pr.title,
        "url": pull_request_url(repo, pr.pull_request_id),
        "state": state,
        "author": pr.created_by.name if pr.created_by else None,
        "base_branch": _branch(pr.target_ref_name),
        "head_branch": _branch(pr.source_ref_name),
        "created_at": pr.creation_date,
        "updated_at": max(s for s in stamps if s is not None),
        "merged_at": pr.closed_date if state == "MERGED" else None,
        "closed_at": pr.closed_date if state != "OPEN" else None,
        "merge_commit_sha": pr.last_merge_commit.commit_id
        if state == "MERGED" and pr.last_merge_commit
        else None,
        "additions": None,
        "deletions": None,
        "changed_files": None,
        "active": True,
    }


def pull_request_url(repo: RepoInfo, number: int) -> str:
    """The pull request's web page (links and pull request rows name it the same way)."""
    return f"{repo.url}/pullrequest/{number}"


def _branch(ref: str | None) -> str | None:
    return ref.removeprefix("refs/heads/") if ref else None


def comment_rows(b: PullRequestBundle) -> list[dict[str, Any]]:
    """One row per comment; ids restart in every thread, so the key is PR.thread.comment.
    ``kind``: ``system`` for the service's own comments (votes, pushes, policy), ``review``
    for comments on a file, ``issue`` for the conversation."""
    rows = []
    for t in b.threads:
        if t.is_deleted:
            continue
        on_file = bool((t.model_extra or {}).get("threadContext"))
        for c in t.comments:
            if c.is_deleted:
                continue
            system = (c.comment_type or "").lower() == "system"
            rows.append(
                {
                    "external_id": f"{b.pr.pull_request_id}.{t.id}.{c.id}",
                    "author": c.author.name if c.author else None,
                    "kind": "system" if system else "review" if on_file else "issue",
                    "created_at": c.published_date,
                }
            )
    return rows


def review_rows(b: PullRequestBundle) -> list[dict[str, Any]]:
    """One review per reviewer whose vote is not 0. When the vote was cast is the latest
    ``VoteUpdate`` system thread by that reviewer (thread property names UNVERIFIED);
    without one, unknown."""
    voted: dict[str, datetime] = {}
    for t in b.threads:
        if str(t.property_value("CodeReviewThreadType") or "") != "VoteUpdate":
            continue
        for c in t.comments:
            if c.author and c.author.id and c.published_date:
                prev = voted.get(c.author.id)
                voted[c.author.id] = max(prev, c.published_date) if prev else c.published_date
    return [
        {
            "external_id": f"{b.pr.pull_request_id}.{r.id}",
            "author": r.display_name or r.unique_name,
            "state": VOTE_STATES.get(r.vote, f"VOTE_{r.vote}"),
            "submitted_at": voted.get(r.id or ""),
        }
        for r in b.pr.reviewers
        if r.vote != 0
    ]


def commit_rows(b: PullRequestBundle) -> list[dict[str, Any]]:
    return [
        {
            "sha": c.commit_id,
            "author": c.author.name if c.author else None,
            "authored_at": c.author.date if c.author else None,
            "committed_at": c.committer.date if c.committer else None,
            "message": c.comment,
            "additions": None,
            "deletions": None,
        }
        for c in b.commits
    ]


# -- builds and deployments --------------------------------------------------------------------


def ci_run_row(build: Build) -> dict[str, Any]:
    return {
        "external_id": str(build.id),
        "pipeline": build.definition.name if build.definition else None,
        "number": build.build_number,
        "status": build.status or "none",
        "result": build.result,
        "branch": _branch(build.source_branch),
        "sha": build.source_version,
        "reason": build.reason,
        "url": build.url,
        "created_at": build.queue_time,
        "started_at": build.start_time,
        "finished_at": build.finish_time,
    }


def _status(value: str | None, running: str = "IN_PROGRESS") -> str:
    if not value:
        return running
    return DEPLOYMENT_STATUS.get(value.lower(), value.upper())


@dataclass(frozen=True)
class DeploymentFacts:
    """A deployment row plus how to find its repository: the artifact's repository id, or
    the build (ci_runs.external_id) whose repository and commit it deployed."""

    row: dict[str, Any]
    repository_external_id: str | None
    build_id: str | None


def release_deployment(d: ReleaseDeployment) -> DeploymentFacts:
    """A classic release deployment; its commit is the primary Build artifact's source
    version (``definitionReference`` keys UNVERIFIED, see ``models.Artifact``)."""
    artifacts = d.release.artifacts if d.release else []
    build = next((a for a in artifacts if a.is_primary), artifacts[0] if artifacts else None)
    row = {
        "external_id": f"release:{d.id}",
        "environment": d.release_environment.name
        if d.release_environment and d.release_environment.name
        else "unknown",
        "status": _status(d.deployment_status),
        "sha": build.ref_id("sourceVersion") if build else None,
        "ref": _branch(build.ref_id("branches")) if build else None,
        "created_at": d.queued_on or d.started_on,
        "finished_at": d.completed_on,
    }
    return DeploymentFacts(
        row,
        (build.ref_id("repository") or "").lower() or None if build else None,
        build.ref_id("version") if build else None,
    )


def environment_deployment(
    record: EnvironmentDeploymentRecord, environment: str
) -> DeploymentFacts:
    """A YAML pipeline's deployment job to an environment; ``owner.id`` is the run (build)
    whose repository and commit were deployed."""
    row = {
        "external_id": f"environment:{record.id}",
        "environment": environment,
        "status": _status(record.result),
        "sha": None,
        "ref": None,
        "created_at": record.queue_time or record.start_time,
        "finished_at": record.finish_time if record.result else None,
    }
    owner = record.owner.id if record.owner else None
    return DeploymentFacts(row, None, None if owner is None else str(owner))
