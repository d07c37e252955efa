"""Azure DevOps rows → the canonical tables, inside the caller's transaction.

Every function upserts by natural key, so a batch loaded twice (a crash after the commit's
rows but before the process learnt of it) leaves the same rows. The SQL is `storage`'s.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from pulse_console.pipelines.azure_devops.transform import (
    DeploymentFacts,
    PullRequestBundle,
    PullRequestLink,
    RepoInfo,
    comment_rows,
    commit_rows,
    pull_request_row,
    pull_request_url,
    review_rows,
)
from storage import status_spans
from storage.ci_runs import built
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
    WorkItemTransition,
)
from storage.pull_requests import CHILD_KEYS, delete_missing_children
from storage.revision_heads import Head, read_heads, save_heads
from storage.source_ids import deactivate, deactivate_others, ids_by_external_id
from storage.work_item_links import delete_stale_links


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
    keep = [r["external_id"] for r in rows]
    deactivate_others(conn, Repository, t.client_id, t.integration_id, keep)
    return {ext: rid for (_, _, ext), rid in ids.items()}


def load_work_items(conn: Connection, t: Target, rows: list[dict[str, Any]]) -> dict[str, int]:
    """→ external id → work_items.id."""
    ids = upsert(conn, WorkItem, t.rows(rows), return_ids=True).ids or {}
    return {ext: wid for (_, _, ext), wid in ids.items()}


def work_item_ids(conn: Connection, t: Target, external_ids: Iterable[str]) -> dict[str, int]:
    return ids_by_external_id(conn, WorkItem, t.client_id, t.integration_id, external_ids)


def deactivate_work_items(conn: Connection, t: Target, external_ids: Sequence[str]) -> int:
    """Deleted (recycle bin) items stay as inactive rows."""
    return deactivate(conn, WorkItem, t.client_id, t.integration_id, external_ids)


def revision_heads(conn: Connection, ids: Iterable[int]) -> dict[int, Head]:
    return read_heads(conn, ids)


def load_revisions(
    conn: Connection,
    t: Target,
    transitions: list[dict[str, Any]],
    heads: dict[int, Head],
) -> None:
    """Transitions, the new revision heads, and the status timelines of the items touched."""
    upsert(conn, WorkItemTransition, t.rows(transitions))
    save_heads(conn, t.client_id, heads)
    changed = sorted({r["work_item_id"] for r in transitions})
    if changed:
        status_spans.refresh_items(conn, changed)


def load_links(
    conn: Connection,
    t: Target,
    links: list[PullRequestLink],
    repos: dict[str, RepoInfo],
    *,
    evidence: str,
    work_items: Sequence[str] = (),
    pull_request_urls: Sequence[str] = (),
) -> int:
    """Work item ↔ pull request links whose both ends we hold (other projects' are skipped).
    They replace the links of this ``evidence`` that these ``work_items`` (external ids) or
    ``pull_request_urls`` had: one no longer reported is removed."""
    ids = work_item_ids(conn, t, [*work_items, *(str(link.work_item) for link in links)])
    rows: list[dict[str, Any]] = []
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
                "url": pull_request_url(repo, link.pull_request),
                "repository": repo.full_name,
                "pull_request_number": link.pull_request,
                "evidence": link.evidence,
                "detail": None,
            }
        )
    upsert(conn, WorkItemLink, rows)
    delete_stale_links(
        conn,
        t.client_id,
        evidence,
        work_item_ids=[ids[w] for w in work_items if w in ids],
        urls=pull_request_urls,
        keep=[(r["work_item_id"], r["url"]) for r in rows],
    )
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
    for table, column in CHILD_KEYS.items():
        keep = [(r["pull_request_id"], r[column]) for r in children[table]]
        delete_missing_children(conn, table, t.client_id, pids, keep)
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
    builds = built(conn, t.client_id, t.integration_id, (f.build_id for f in facts if f.build_id))
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
