"""Writing GitHub rows: repositories, one page of pull requests (with their commits,
reviews, comments and work-item links) and deployments.

Every function runs in the caller's transaction (`pipelines.checkpoint.commit_batch`) and
goes through `storage.load.upsert` and `storage.pull_requests`, so re-loading a page changes
nothing; rows the source no longer has (force-pushed commits, deleted comments, keys gone
from a title) are removed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection

from connectors.github.models import PullRequest
from pulse_console.pipelines.github import transform
from pulse_console.pipelines.github.extract import Found
from pulse_console.pipelines.github.transform import Row
from pulse_console.pipelines.work_item_keys import KeyMatcher
from storage import pull_requests as stored
from storage.load import deactivate_missing, upsert
from storage.models import Deployment as DeploymentRow
from storage.models import PrComment, PrCommit, PrReview, WorkItemLink
from storage.models import PullRequest as PullRequestRow
from storage.models import Repository as RepositoryRow

PR_VERSION = ("updated_at", "repository_id", "active")
"""GitHub bumps ``updatedAt`` on every change to a pull request; a row with the same version
is not sent again (`storage.load.upsert`)."""


@dataclass(frozen=True)
class Tenant:
    client_id: int
    integration_id: int


@dataclass
class RepoTarget:
    id: int
    full_name: str
    url: str


@dataclass
class Stats:
    repositories: int = 0
    pull_requests: int = 0
    commits: int = 0
    reviews: int = 0
    comments: int = 0
    deployments: int = 0
    links: int = 0
    quarantined: int = 0
    unresolved_keys: int = 0

    @property
    def records(self) -> int:
        return self.pull_requests + self.commits + self.reviews + self.comments + self.deployments


def load_repositories(conn: Connection, t: Tenant, found: Found) -> list[RepoTarget]:
    """Upsert the discovered repositories; the ones no longer found are marked inactive."""
    rows = [
        {"client_id": t.client_id, "integration_id": t.integration_id, **r}
        for r in (transform.repository_row(repo, how) for repo, how in found.values())
    ]
    ids = upsert(conn, RepositoryRow, rows, return_ids=True).ids or {}
    deactivate_missing(
        conn, RepositoryRow, t.client_id, t.integration_id, [r["external_id"] for r in rows]
    )
    targets = [
        RepoTarget(
            ids[(t.client_id, t.integration_id, repo.id)],
            repo.name_with_owner,
            repo.url or f"https://github.com/{repo.name_with_owner}",
        )
        for repo, _ in found.values()
    ]
    return sorted(targets, key=lambda target: target.full_name.lower())


def load_pull_requests(
    conn: Connection,
    t: Tenant,
    repo: RepoTarget,
    prs: Sequence[PullRequest],
    matcher: KeyMatcher,
    stats: Stats,
) -> None:
    """One page of pull requests with their children and work-item links."""
    if not prs:
        return
    c, i = t.client_id, t.integration_id
    rows = [
        {
            "client_id": c,
            "integration_id": i,
            "repository_id": repo.id,
            **transform.pull_request_row(pr),
        }
        for pr in prs
    ]
    ids = upsert(conn, PullRequestRow, rows, return_ids=True, version=PR_VERSION).ids or {}
    pr_id = {pr.id: ids[(c, i, pr.id)] for pr in prs}
    children: dict[str, list[Row]] = {"pr_commits": [], "pr_reviews": [], "pr_comments": []}
    for pr in prs:
        parent = {"client_id": c, "integration_id": i, "pull_request_id": pr_id[pr.id]}
        children["pr_commits"] += [{**parent, **r} for r in transform.commit_rows(pr)]
        children["pr_reviews"] += [{**parent, **r} for r in transform.review_rows(pr)]
        children["pr_comments"] += [{**parent, **r} for r in transform.comment_rows(pr)]
    upsert(conn, PrCommit, children["pr_commits"])
    upsert(conn, PrReview, children["pr_reviews"])
    upsert(conn, PrComment, children["pr_comments"])
    pids = list(pr_id.values())
    # A force-push replaces commits; a deleted comment disappears: drop what is gone.
    for table, column in stored.CHILD_KEYS.items():
        keep = [(r["pull_request_id"], r[column]) for r in children[table]]
        stored.delete_missing_children(conn, table, c, pids, keep)
    _link(conn, t, repo, prs, matcher, stats)
    stats.pull_requests += len(prs)
    stats.commits += len(children["pr_commits"])
    stats.reviews += len(children["pr_reviews"])
    stats.comments += len(children["pr_comments"])


def _link(
    conn: Connection,
    t: Tenant,
    repo: RepoTarget,
    prs: Sequence[PullRequest],
    matcher: KeyMatcher,
    stats: Stats,
) -> None:
    """Work-item links from the keys the pull requests name; links whose key is gone go."""
    found = transform.key_mentions(matcher, prs)
    keys = sorted({m.key for m in found})
    resolved = stored.resolve_keys(conn, t.client_id, keys)
    stats.unresolved_keys += len(set(keys) - set(resolved))
    rows = [
        transform.link_row(t.client_id, resolved[m.key], repo.full_name, m)
        for m in found
        if m.key in resolved
    ]
    upsert(conn, WorkItemLink, rows)
    stored.delete_stale_key_links(
        conn, t.client_id, transform.KEY_EVIDENCE, [pr.url for pr in prs], rows
    )
    stats.links += len(rows)


def load_deployments(
    conn: Connection, t: Tenant, repo: RepoTarget, rows: Sequence[Row], stats: Stats
) -> None:
    full = [
        {
            "client_id": t.client_id,
            "integration_id": t.integration_id,
            "repository_id": repo.id,
            **row,
        }
        for row in rows
    ]
    upsert(conn, DeploymentRow, full)
    stats.deployments += len(full)
