"""JSON shapes of the Azure DevOps simulator, as the 7.1 specs and recorded examples show them
(fixtures/api_examples/azure_devops, DevLake's azuredevops_go raw tables)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from connectors.sandbox.azure_devops.model import (
    COLUMNS,
    TYPES,
    AdoOrg,
    BuildData,
    EnvironmentRecordData,
    PullRequestData,
    ReleaseDeploymentData,
    Revision,
    ThreadData,
    WorkItemData,
    guid,
)
from connectors.sandbox.seeding import STREAM_USER


def ado_time(ms: int) -> str:
    """``2014-03-18T17:17:05.76Z``-style ISO-8601 UTC (milliseconds here)."""
    d = dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC)
    return f"{d:%Y-%m-%dT%H:%M:%S}.{ms % 1000:03d}Z"


def parse_time(text: str) -> int:
    parsed = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return int(parsed.timestamp() * 1000)


def identity(org: AdoOrg, base: str, user: int) -> dict[str, Any]:
    u = org.users[user]
    uid = guid(org.seed, STREAM_USER, user)
    return {
        "displayName": u.display_name,
        "url": f"{base}/_apis/Identities/{uid}",
        "id": uid,
        "uniqueName": u.email or f"{u.display_name.replace(' ', '.').lower()}@example.com",
        "imageUrl": f"{base}/_api/_common/identityImage?id={uid}",
    }


def identity_text(org: AdoOrg, user: int) -> str:
    """The ``Name <email>`` form fields carry without ``includeIdentityRef``."""
    ref = identity(org, "", user)
    return f"{ref['displayName']} <{ref['uniqueName']}>"


def project(org: AdoOrg, base: str, index: int) -> dict[str, Any]:
    p = org.projects[index]
    return {
        "id": p.id,
        "name": p.name,
        "url": f"{base}/_apis/projects/{p.id}",
        "state": "wellFormed",
        "revision": 11,
        "visibility": "private",
        "lastUpdateTime": ado_time(org.start_ms),
    }


def work_item_types(base: str, project_name: str) -> list[dict[str, Any]]:
    return [
        {
            "name": name,
            "referenceName": f"Microsoft.VSTS.WorkItemTypes.{name.replace(' ', '')}",
            "description": f"Agile {name}",
            "color": "009CCC",
            "isDisabled": False,
            "states": [
                {"name": state, "color": "b2b2b2", "category": category}
                for state, category in states
            ],
            "url": f"{base}/{project_name}/_apis/wit/workItemTypes/{name}",
        }
        for name, states in TYPES.items()
    ]


FIELD_NAMES = {
    "System.Id": "ID",
    "System.AreaPath": "Area Path",
    "System.TeamProject": "Team Project",
    "System.IterationPath": "Iteration Path",
    "System.WorkItemType": "Work Item Type",
    "System.State": "State",
    "System.Reason": "Reason",
    "System.CreatedDate": "Created Date",
    "System.CreatedBy": "Created By",
    "System.ChangedDate": "Changed Date",
    "System.ChangedBy": "Changed By",
    "System.Rev": "Rev",
    "System.Title": "Title",
    "System.BoardColumn": "Board Column",
    "System.AssignedTo": "Assigned To",
    "Microsoft.VSTS.Common.Priority": "Priority",
    "Microsoft.VSTS.Common.ClosedDate": "Closed Date",
    "Microsoft.VSTS.Scheduling.StoryPoints": "Story Points",
    "Custom.Team": "Team",  # a custom field: stored by this name
}


def fields(base: str) -> list[dict[str, Any]]:
    return [
        {
            "name": name,
            "referenceName": ref,
            "type": "string",
            "usage": "workItem",
            "readOnly": ref.startswith("System.") and ref != "System.Title",
            "url": f"{base}/_apis/wit/fields/{ref}",
        }
        for ref, name in FIELD_NAMES.items()
    ]


def revision_fields(org: AdoOrg, item: WorkItemData, rev: Revision, refs: bool) -> dict[str, Any]:
    project_name = org.projects[rev.project].name
    who = (lambda u: identity(org, "", u)) if refs else (lambda u: identity_text(org, u))
    fields: dict[str, Any] = {
        "System.Id": item.id,
        "System.AreaPath": f"{project_name}\\{item.team}",
        "System.TeamProject": project_name,
        "System.IterationPath": f"{project_name}\\Sprint {_sprint(rev.changed_ms)}",
        "System.WorkItemType": item.type,
        "System.State": rev.state,
        "System.Reason": "New" if rev.rev == 1 else f"Moved to state {rev.state}",
        "System.CreatedDate": ado_time(item.created_ms),
        "System.CreatedBy": who(item.created_by),
        "System.ChangedDate": ado_time(rev.changed_ms),
        "System.ChangedBy": who(rev.by),
        "System.Rev": rev.rev,
        "System.Title": rev.title,
        "System.BoardColumn": _column(rev.state),
        "Microsoft.VSTS.Common.Priority": item.priority,
        "Custom.Team": item.team,
    }
    if rev.assignee is not None:
        fields["System.AssignedTo"] = who(rev.assignee)
    if item.story_points is not None:
        fields["Microsoft.VSTS.Scheduling.StoryPoints"] = item.story_points
    closed = _entered(item, rev.rev, "Closed")
    if rev.state == "Closed" and closed is not None:
        fields["Microsoft.VSTS.Common.ClosedDate"] = ado_time(closed)
    return fields


def _sprint(ms: int) -> int:
    return 1 + (ms // 1_209_600_000) % 26  # two-week sprints


def _entered(item: WorkItemData, upto: int, state: str) -> int | None:
    when = None
    for r in item.revisions[:upto]:
        if r.state == state and (when is None or item.revisions[r.rev - 2].state != state):
            when = r.changed_ms
    return when


def _column(state: str) -> str:
    return COLUMNS.get(state, state)


def work_item(org: AdoOrg, base: str, item: WorkItemData) -> dict[str, Any]:
    head = item.head
    out: dict[str, Any] = {
        "id": item.id,
        "rev": head.rev,
        "fields": revision_fields(org, item, head, refs=True),
        "url": f"{base}/_apis/wit/workItems/{item.id}",
    }
    relations = []
    for pid in item.pull_requests:
        pr = org.pull_request(pid)
        repo = org.repos[pr.repo]
        proj = org.projects[repo.project]
        relations.append(
            {
                "rel": "ArtifactLink",
                "url": f"vstfs:///Git/PullRequestId/{proj.id}%2F{repo.id}%2F{pr.id}",
                "attributes": {"authorizedDate": ado_time(pr.created_ms), "name": "Pull Request"},
            }
        )
    out["relations"] = relations
    return out


def repository(org: AdoOrg, base: str, index: int) -> dict[str, Any]:
    r = org.repos[index]
    p = org.projects[r.project]
    return {
        "id": r.id,
        "name": r.name,
        "url": f"{base}/_apis/git/repositories/{r.id}",
        "project": {"id": p.id, "name": p.name, "state": "wellFormed"},
        "defaultBranch": "refs/heads/main",
        "size": 1024,
        "remoteUrl": f"{base}/{p.name}/_git/{r.name}",
        "webUrl": f"{base}/{p.name}/_git/{r.name}",
        "isDisabled": False,
    }


def pull_request(org: AdoOrg, base: str, pr: PullRequestData) -> dict[str, Any]:
    repo = repository(org, base, pr.repo)
    out: dict[str, Any] = {
        "repository": {k: repo[k] for k in ("id", "name", "url", "project")},
        "pullRequestId": pr.id,
        "codeReviewId": pr.id,
        "status": pr.status,
        "createdBy": identity(org, base, pr.author),
        "creationDate": ado_time(pr.created_ms),
        "title": pr.title,
        "description": f"{pr.title}\n\nDetails."[:400],
        "sourceRefName": pr.source_ref,
        "targetRefName": "refs/heads/main",
        "mergeStatus": "succeeded",
        "isDraft": False,
        "mergeId": guid(org.seed, 77, pr.id),
        "lastMergeSourceCommit": {"commitId": pr.commits[-1].sha},
        "reviewers": [
            {**identity(org, base, u), "vote": v, "hasDeclined": False, "isFlagged": False}
            for u, v in pr.reviewers
        ],
        "url": f"{repo['url']}/pullRequests/{pr.id}",
        "supportsIterations": True,
    }
    if pr.closed_ms is not None:
        out["closedDate"] = ado_time(pr.closed_ms)
    if pr.merge_sha is not None:
        out["lastMergeCommit"] = {"commitId": pr.merge_sha}
    return out


def thread(org: AdoOrg, base: str, t: ThreadData) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": t.id,
        "publishedDate": ado_time(t.published_ms),
        "lastUpdatedDate": ado_time(t.comments[-1].published_ms),
        "comments": [
            {
                "id": c.id,
                "parentCommentId": 0 if c.id == 1 else c.id - 1,
                "author": identity(org, base, c.author),
                "content": c.content,
                "publishedDate": ado_time(c.published_ms),
                "lastUpdatedDate": ado_time(c.published_ms),
                "commentType": "system" if c.system else "text",
            }
            for c in t.comments
        ],
        "status": "unknown" if t.vote is not None else "active",
        "isDeleted": False,
        # VoteUpdate system threads as the web UI records them (property names UNVERIFIED).
        "properties": (
            {
                "CodeReviewThreadType": {"$type": "System.String", "$value": "VoteUpdate"},
                "CodeReviewVoteResult": {"$type": "System.String", "$value": str(t.vote)},
            }
            if t.vote is not None
            else {}
        ),
    }
    return out


def commit(org: AdoOrg, base: str, c: Any) -> dict[str, Any]:
    u = identity(org, base, c.author)
    who = {"name": u["displayName"], "email": u["uniqueName"], "date": ado_time(c.authored_ms)}
    return {
        "commitId": c.sha,
        "author": who,
        "committer": who,
        "comment": c.message,
        "url": f"{base}/_apis/git/repositories/commits/{c.sha}",
    }


def build(org: AdoOrg, base: str, b: BuildData) -> dict[str, Any]:
    repo = org.repos[b.repo]
    proj = org.projects[repo.project]
    now = org.now_ms
    out: dict[str, Any] = {
        "id": b.id,
        "buildNumber": f"{b.queue_ms // 86_400_000}.{b.id}",
        "status": "completed" if b.finish_ms <= now else "inProgress",
        "queueTime": ado_time(b.queue_ms),
        "url": f"{base}/{proj.id}/_apis/build/Builds/{b.id}",
        "definition": {"id": b.repo + 1, "name": b.definition, "type": "build"},
        "project": {"id": proj.id, "name": proj.name},
        "sourceBranch": b.branch,
        "sourceVersion": b.sha,
        "reason": "individualCI",
        "repository": {"id": repo.id, "type": "TfsGit", "name": repo.name},
    }
    if b.start_ms <= now:
        out["startTime"] = ado_time(b.start_ms)
    if b.finish_ms <= now:
        out["finishTime"] = ado_time(b.finish_ms)
        out["result"] = "succeeded" if b.succeeded else "failed"
    return out


def release_deployment(org: AdoOrg, base: str, d: ReleaseDeploymentData) -> dict[str, Any]:
    b = org.build(d.build)
    repo = org.repos[b.repo]
    done = d.completed_ms <= org.now_ms
    status = ("succeeded" if d.succeeded else "failed") if done else "inProgress"
    out: dict[str, Any] = {
        "id": d.id,
        "release": {
            "id": d.release_id,
            "name": f"Release-{d.release_id}",
            "url": f"{base}/_apis/Release/releases/{d.release_id}",
            "artifacts": [
                {
                    "sourceId": f"{org.projects[repo.project].id}:{b.repo + 1}",
                    "type": "Build",
                    "alias": f"_{repo.name}",
                    "isPrimary": True,
                    "definitionReference": {
                        "definition": {"id": str(b.repo + 1), "name": b.definition},
                        "version": {"id": str(b.id), "name": f"{b.id}"},
                        "repository": {"id": repo.id, "name": repo.name},
                        "sourceVersion": {"id": b.sha, "name": b.sha[:7]},
                        "branches": {"id": b.branch, "name": b.branch},
                    },
                }
            ],
        },
        "releaseDefinition": {"id": 1, "name": f"{repo.name} release"},
        "releaseEnvironment": {"id": d.environment_id, "name": d.environment},
        "attempt": 1,
        "reason": "automated",
        "deploymentStatus": status,
        "operationStatus": ("Approved" if done else "QueuedForAgent"),
        "queuedOn": ado_time(d.queued_ms),
        "startedOn": ado_time(d.started_ms),
        "lastModifiedOn": ado_time(d.completed_ms if done else d.started_ms),
    }
    if done:
        out["completedOn"] = ado_time(d.completed_ms)
    return out


def modified_ms(org: AdoOrg, d: ReleaseDeploymentData) -> int:
    return d.completed_ms if d.completed_ms <= org.now_ms else d.started_ms


def environment(org: AdoOrg, name: str, env_id: int, project_name: str) -> dict[str, Any]:
    return {
        "id": env_id,
        "name": name,
        "description": "",
        "createdOn": ado_time(org.start_ms),
        "lastModifiedOn": ado_time(org.start_ms),
        "project": {"name": project_name},
    }


def environment_record(org: AdoOrg, base: str, e: EnvironmentRecordData) -> dict[str, Any]:
    b = org.build(e.build)
    out: dict[str, Any] = {
        "id": e.id,
        "environmentId": e.environment_id,
        "serviceOwner": "00025394-6065-48ca-87d9-7f5672854ef7",
        "requestIdentifier": f"{e.id}",
        "planType": "Build",
        "stageName": "Deploy",
        "jobName": f"Deploy_{e.environment}",
        "stageAttempt": 1,
        "jobAttempt": 1,
        "definition": {"id": b.repo + 1, "name": b.definition},
        "owner": {"id": b.id, "name": f"{b.id}"},
        "queueTime": ado_time(e.queue_ms),
    }
    if e.start_ms <= org.now_ms:
        out["startTime"] = ado_time(e.start_ms)
    if e.finish_ms <= org.now_ms:
        out["finishTime"] = ado_time(e.finish_ms)
        out["result"] = "succeeded" if e.succeeded else "failed"
    return out
