"""Azure DevOps rows → the canonical tables, inside the caller's transaction.

Every function upserts by natural key, so a batch loaded twice (a crash after the commit's
rows but before the process learnt of it) leaves the same rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select, text, update

from pulse_console.pipelines.azure_devops.transform import (
    DeploymentFacts,
    PullRequestBundle,
    PullRequestLink,
    RepoInfo,
    comment_rows,
    commit_rows,
    pull_request_row,
    review_rows,
)
from storage import status_spans
from storage.load import upsert
from storage.models import (
    CiRun,
    Deployment,
    IssueType,
    PrComment,
    PrCommit,
    Project,
    PrReview,
    PullRequest,
    Repository,
    SourceField,
    Status,
    WorkItem,
    WorkItemLink,
    WorkItemRevisionHead,
    WorkItemTransition,
)


@dataclass(frozen=True)
class Target:
    client_id: int
    integration_id: int

    def rows(self, rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        return [
            {"client_id": self.client_id, "integration_id": self.integration_id, **r} for r in rows
        ]


def load_metadata(
    conn: Connection,
    t: Target,
    projects: list[dict[str, Any]],
    statuses: list[dict[str, Any]],
    types: list[dict[str, Any]],
) -> None:
    upsert(conn, Project, t.rows(projects))
    upsert(conn, Status, t.rows(statuses))
    upsert(conn, IssueType, t.rows(types))


def load_fields(conn: Connection, t: Target, rows: list[dict[str, Any]]) -> None:
    upsert(conn, SourceField, t.rows(rows))


def load_repositories(conn: Connection, t: Target, rows: list[dict[str, Any]]) -> dict[str, int]:
    """Upsert; the rest of the integration's repositories become inactive. → external id → id."""
    ids = upsert(conn, Repository, t.rows(rows), return_ids=True).ids or {}
    conn.execute(
        update(Repository)
        .where(
            Repository.client_id == t.client_id,
            Repository.integration_id == t.integration_id,
            Repository.external_id.not_in([r["external_id"] for r in rows] or [""]),
        )
        .values(active=False)
    )
    return {ext: rid for (_, _, ext), rid in ids.items()}


def load_work_items(conn: Connection, t: Target, rows: list[dict[str, Any]]) -> dict[str, int]:
    """→ external id → work_items.id."""
    ids = upsert(conn, WorkItem, t.rows(rows), return_ids=True).ids or {}
    return {ext: wid for (_, _, ext), wid in ids.items()}


def work_item_ids(conn: Connection, t: Target, external_ids: Iterable[str]) -> dict[str, int]:
    wanted = sorted(set(external_ids))
    if not wanted:
        return {}
    result = conn.execute(
        select(WorkItem.external_id, WorkItem.id).where(
            WorkItem.client_id == t.client_id,
            WorkItem.integration_id == t.integration_id,
            WorkItem.external_id.in_(wanted),
        )
    )
    return {str(ext): int(wid) for ext, wid in result}


def deactivate_work_items(conn: Connection, t: Target, external_ids: Sequence[str]) -> int:
    """Deleted (recycle bin) items stay as inactive rows."""
    if not external_ids:
        return 0
    result = conn.execute(
        update(WorkItem)
        .where(
            WorkItem.client_id == t.client_id,
            WorkItem.integration_id == t.integration_id,
            WorkItem.external_id.in_(list(external_ids)),
            WorkItem.active.is_(True),
        )
        .values(active=False)
    )
    return int(result.rowcount or 0)


def revision_heads(conn: Connection, ids: Iterable[int]) -> dict[int, tuple[int, dict[str, Any]]]:
    rows = conn.execute(
        select(
            WorkItemRevisionHead.work_item_id,
            WorkItemRevisionHead.rev,
            WorkItemRevisionHead.fields,
        ).where(WorkItemRevisionHead.work_item_id.in_(list(ids)))
    )
    return {int(w): (int(rev), dict(fields)) for w, rev, fields in rows}


def load_revisions(
    conn: Connection,
    t: Target,
    transitions: list[dict[str, Any]],
    heads: dict[int, tuple[int, dict[str, Any]]],
) -> None:
    """Transitions, the new revision heads, and the status timelines of the items touched."""
    upsert(conn, WorkItemTransition, t.rows(transitions))
    upsert(
        conn,
        WorkItemRevisionHead,
        [
            {"work_item_id": w, "client_id": t.client_id, "rev": rev, "fields": fields}
            for w, (rev, fields) in heads.items()
        ],
        key=["work_item_id"],
    )
    changed = sorted({r["work_item_id"] for r in transitions})
    if changed:
        status_spans.refresh_items(conn, changed)


def load_links(
    conn: Connection, t: Target, links: list[PullRequestLink], repos: dict[str, RepoInfo]
) -> int:
    """Work item ↔ pull request links whose both ends we hold (other projects' are skipped)."""
    ids = work_item_ids(conn, t, (str(link.work_item) for link in links))
    rows = []
    for link in links:
        repo = repos.get(link.repository_id)
        wid = ids.get(str(link.work_item))
        if repo is None or wid is None:
            continue
        rows.append(
            {
                "client_id": t.client_id,
                "work_item_id": wid,
                "kind": "pull_request",
                "url": f"{repo.url}/pullrequest/{link.pull_request}",
                "repository": repo.full_name,
                "pull_request_number": link.pull_request,
                "evidence": link.evidence,
                "detail": None,
            }
        )
    upsert(conn, WorkItemLink, rows)
    return len(rows)


@dataclass
class PullRequestCounts:
    pull_requests: int = 0
    commits: int = 0
    reviews: int = 0
    comments: int = 0


def load_pull_requests(
    conn: Connection, t: Target, repo: RepoInfo, bundles: list[PullRequestBundle]
) -> PullRequestCounts:
    """Pull requests with commits, reviews and comments; what disappeared from a pull
    request (a vote reset to 0, a deleted comment, a force-push) is removed."""
    counts = PullRequestCounts()
    if not bundles:
        return counts
    rows = [{**pull_request_row(b, repo), "repository_id": repo.id} for b in bundles]
    ids = upsert(conn, PullRequest, t.rows(rows), return_ids=True).ids or {}
    children: dict[str, list[dict[str, Any]]] = {
        "pr_commits": [],
        "pr_reviews": [],
        "pr_comments": [],
    }
    for b in bundles:
        pid = ids[(t.client_id, t.integration_id, str(b.pr.pull_request_id))]
        for table, made in (
            ("pr_commits", commit_rows(b)),
            ("pr_reviews", review_rows(b)),
            ("pr_comments", comment_rows(b)),
        ):
            children[table].extend({**r, "pull_request_id": pid} for r in made)
    upsert(conn, PrCommit, t.rows(children["pr_commits"]))
    upsert(conn, PrReview, t.rows(children["pr_reviews"]))
    upsert(conn, PrComment, t.rows(children["pr_comments"]))
    pids = sorted(ids.values())
    for table, column in (
        ("pr_commits", "sha"),
        ("pr_reviews", "external_id"),
        ("pr_comments", "external_id"),
    ):
        keep = [(r["pull_request_id"], r[column]) for r in children[table]]
        conn.execute(
            text(
                f"DELETE FROM {table} WHERE client_id = :c AND pull_request_id = ANY(:p)"
                f" AND (pull_request_id, {column}) NOT IN"
                " (SELECT * FROM unnest(CAST(:kp AS bigint[]), CAST(:kv AS text[])))"
            ),
            {"c": t.client_id, "p": pids, "kp": [k[0] for k in keep], "kv": [k[1] for k in keep]},
        )
    counts.pull_requests = len(bundles)
    counts.commits = len(children["pr_commits"])
    counts.reviews = len(children["pr_reviews"])
    counts.comments = len(children["pr_comments"])
    return counts


def load_ci_runs(conn: Connection, t: Target, rows: list[dict[str, Any]]) -> int:
    upsert(conn, CiRun, t.rows(rows))
    return len(rows)


def load_deployments(
    conn: Connection, t: Target, facts: list[DeploymentFacts], repos: dict[str, RepoInfo]
) -> int:
    """Deployments with their repository (the artifact's, else the deployed build's) and
    commit (the artifact's source version, else the build's); those of repositories this
    integration does not sync are left out."""
    builds = {
        str(ext): (repo_id, sha)
        for ext, repo_id, sha in conn.execute(
            select(CiRun.external_id, CiRun.repository_id, CiRun.sha).where(
                CiRun.client_id == t.client_id,
                CiRun.integration_id == t.integration_id,
                CiRun.external_id.in_([f.build_id for f in facts if f.build_id] or [""]),
            )
        )
    }
    rows = []
    for f in facts:
        repo = repos.get(f.repository_external_id or "")
        build = builds.get(f.build_id or "")
        repository_id = repo.id if repo else build[0] if build else None
        if repository_id is None:
            continue
        sha = f.row["sha"] or (build[1] if build else None)
        rows.append({**f.row, "sha": sha, "repository_id": repository_id})
    upsert(conn, Deployment, t.rows(rows))
    return len(rows)
