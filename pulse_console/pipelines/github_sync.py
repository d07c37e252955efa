"""github_sync: repositories, pull requests (commits, reviews, comments) and deployments from
GitHub into the canonical schema, resumable from a cursor per repository, linked to Jira.

Per repository the checkpoint (scope ``repo:<owner>/<name>``) holds, for pull requests and
for deployments separately::

    {"watermark": "2025-03-01T12:00:00Z",  # newest updatedAt/createdAt of the last full walk
     "cursor": "Y3Vyc29y…" | null,          # endCursor of the last committed page of this walk
     "high": "2025-03-02T08:00:00Z" | null} # newest stamp seen by this walk (next watermark)

A walk goes newest first (``UPDATED_AT DESC`` / ``CREATED_AT DESC``) and stops at the
watermark; each page's rows and the checkpoint commit in one transaction, so a killed run
resumes at the last committed cursor, reloads at most one page (idempotent upserts) and
loses nothing. A pull request updated while a walk is under way moves ahead of the cursor;
its new ``updatedAt`` is above this walk's ``high``, so the next run picks it up.
"""

from __future__ import annotations

import fnmatch
import logging
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar

import httpx
from sqlalchemy import Connection, text, update

from connectors.errors import Cancelled
from connectors.github import GitHubClient, Page, PageSizes, Rejected, split_tokens
from connectors.github.models import (
    Deployment,
    PullRequest,
    Repository,
    WorkflowRun,
    format_github_datetime,
    parse_github_datetime,
)
from connectors.http import Clock, HttpEvent, RateLimitPolicy, RateLimitWait, RetryPolicy
from pulse_console.pipelines import ci_deployments
from pulse_console.pipelines.base import Progress, RunContext, RunResult
from pulse_console.pipelines.ci_deployments import DEPLOYMENT, CiCommit, CiRun
from pulse_console.pipelines.quarantine import quarantine
from pulse_console.pipelines.work_item_keys import KeyMatcher
from storage.checkpoints import load_checkpoint, save_checkpoint
from storage.integrations import secret_name
from storage.load import upsert
from storage.models import Deployment as DeploymentRow
from storage.models import (
    PrComment,
    PrCommit,
    PrReview,
    WorkItemLink,
)
from storage.models import PullRequest as PullRequestRow
from storage.models import Repository as RepositoryRow

log = logging.getLogger("pulse_console.pipelines.github_sync")


KEY_EVIDENCE = ("title", "branch", "commit")
TERMINAL = ("SUCCESS", "FAILURE", "ERROR")
INCREMENTAL_FIRST_PAGE = 10


class GitHubConfigError(ValueError):
    """The integration cannot be used as stored; the message says what to fix."""


@dataclass(frozen=True)
class GitHubSyncConfig:
    """``integrations.config`` of a GitHub integration."""

    orgs: tuple[str, ...] = ()
    repos: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()
    search: str | None = None
    dev_status: bool = True
    project_keys: tuple[str, ...] = ()
    deployments: str = "auto"  # graphql | actions | auto | off
    deploy_workflow: str = r"deploy"
    deployment_overlap_hours: float = 24.0
    enterprise: bool = False
    sizes: PageSizes = field(default_factory=PageSizes)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GitHubSyncConfig:
        def strs(name: str) -> tuple[str, ...]:
            value = data.get(name) or ()
            return (value,) if isinstance(value, str) else tuple(str(v) for v in value)

        sizes = PageSizes(**{k: int(v) for k, v in (data.get("page_sizes") or {}).items()})
        return cls(
            orgs=strs("orgs"),
            repos=strs("repos"),
            patterns=strs("patterns"),
            search=data.get("search") or None,
            dev_status=bool(data.get("dev_status", True)),
            project_keys=strs("project_keys"),
            deployments=str(data.get("deployments", "auto")),
            deploy_workflow=str(data.get("deploy_workflow", r"deploy")),
            deployment_overlap_hours=float(data.get("deployment_overlap_hours", 24.0)),
            enterprise=bool(data.get("enterprise", False)),
            sizes=sizes,
        )


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


class GitHubSync:
    """The github_sync job. ``full``: walk every repository from its newest pull request
    and deployment again, ignoring the watermarks. ``transport``/``clock``/policies are for
    tests and benchmarks."""

    job_name: ClassVar[str] = "github_sync"

    def __init__(
        self,
        *,
        full: bool = False,
        transport: httpx.BaseTransport | None = None,
        clock: Clock | None = None,
        retry: RetryPolicy | None = None,
        rate_limit: RateLimitPolicy | None = None,
        after_commit: Callable[[str], None] | None = None,
    ) -> None:
        self.full = full
        self.transport = transport
        self.clock = clock
        self.retry = retry
        self.rate_limit = rate_limit
        self.after_commit = after_commit  # test hook: called after each committed batch

    # -- entry point -----------------------------------------------------------------------

    def client_for(self, ctx: RunContext, cfg: GitHubSyncConfig) -> GitHubClient:
        tokens = split_tokens(ctx.secret(secret_name(ctx.client, ctx.integration.name)) or "")
        if not tokens:
            raise GitHubConfigError(
                f"GitHub integration {ctx.integration.name!r} has no token. Add one with "
                "`pulse-console integration add github … --token-stdin`."
            )
        return GitHubClient.create(
            tokens,
            ctx.integration.base_url or "https://api.github.com",
            enterprise=cfg.enterprise or None,
            transport=self.transport,
            clock=self.clock,
            cancel=ctx.cancel,
            retry=self.retry,
            rate_limit=self.rate_limit,
        )

    def run(self, ctx: RunContext) -> RunResult:
        cfg = GitHubSyncConfig.from_dict(ctx.integration.config)
        with self.client_for(ctx, cfg) as client:
            return _Run(self, ctx, cfg, client).run()


class _Run:
    def __init__(
        self, job: GitHubSync, ctx: RunContext, cfg: GitHubSyncConfig, client: GitHubClient
    ) -> None:
        self.job = job
        self.ctx = ctx
        self.cfg = cfg
        self.client = client
        self.engine = ctx.database.engine
        self.client_id = ctx.client_id
        self.integration_id = ctx.integration.id
        self.stats = Stats()
        self.rate_limit_until: datetime | None = None
        self.phase: str | None = None  # the repository being walked
        client.set_observer(self._on_http_event)
        self.matcher = KeyMatcher(())

    # -- orchestration ---------------------------------------------------------------------

    def run(self) -> RunResult:
        started = time.monotonic()
        self._report("discovering repositories")
        with self.engine.connect() as conn:
            self.matcher = KeyMatcher(self.cfg.project_keys or self._known_project_keys(conn))
        repos = self.discover()
        self.stats.repositories = len(repos)
        checkpoints: dict[str, Any] = {}
        mode = "incremental" if repos else "full"
        for n, repo in enumerate(repos, 1):
            self._check_cancel()
            scope = f"repo:{repo.full_name}"
            with self.engine.connect() as conn:
                state = load_checkpoint(conn, self.client_id, self.integration_id, scope)
            if self.job.full:
                state = {}
            if not (state.get("pull_requests") or {}).get("watermark"):
                mode = "full"
            self.phase = f"{repo.full_name} ({n}/{len(repos)})"
            self.sync_pull_requests(repo, scope, state)
            if self.cfg.deployments != "off":
                self.sync_deployments(repo, scope, state)
            checkpoints[scope] = state
        counters = self.client.counters()
        budget = self.client.budget()
        self.phase = None
        self._report("done")
        return RunResult(
            records=self.stats.records,
            api_calls=counters.requests,
            retries=counters.retries,
            rate_limit_waits=counters.rate_limit_waits,
            checkpoint=checkpoints,
            stats={
                "mode": mode,
                "seconds": round(time.monotonic() - started, 3),
                **self.stats.__dict__,
                "graphql_calls": self.client.graphql_calls,
                "points_used": self.client.points_used,
                "points_remaining": budget.remaining,
                "points_limit": budget.limit,
                "points_reset_at": budget.reset_at.isoformat() if budget.reset_at else None,
            },
        )

    # -- discovery -------------------------------------------------------------------------

    def discover(self) -> list[RepoTarget]:
        """Explicit list + org repositories matching the patterns + search + dev-status."""
        found: dict[str, tuple[Repository, set[str]]] = {}

        def add(repo: Repository | None, how: str) -> None:
            if repo is None or (repo.is_archived and how != "explicit"):
                return
            key = repo.name_with_owner.lower()
            found.setdefault(key, (repo, set()))[1].add(how)

        for name in self.cfg.repos:
            repo = self.client.repository(name)
            if repo is None:
                log.warning("repository %s not found or not visible to the token", name)
            add(repo, "explicit")
        patterns = self.cfg.patterns or (("*",) if self.cfg.orgs else ())
        for org in self.cfg.orgs:
            for page in self.client.iter_organization_repositories(org):
                for repo in page.items:
                    short = repo.name_with_owner.split("/", 1)[-1]
                    if any(
                        fnmatch.fnmatch(short.lower(), p.lower())
                        or fnmatch.fnmatch(repo.name_with_owner.lower(), p.lower())
                        for p in patterns
                    ):
                        add(repo, "pattern")
        if self.cfg.search:
            for repo in self.client.search_repositories(self.cfg.search):
                add(repo, "search")
        if self.cfg.dev_status:
            with self.engine.connect() as conn:
                named = self._dev_status_repositories(conn)
            for name in sorted(named - set(found)):
                add(self.client.repository(name), "dev_status")
            for name in named & set(found):
                found[name][1].add("dev_status")
        rows = [
            {
                "client_id": self.client_id,
                "integration_id": self.integration_id,
                "external_id": repo.id,
                "full_name": repo.name_with_owner,
                "url": repo.url,
                "default_branch": repo.default_branch,
                "discovered_by": ",".join(sorted(how)),
                "active": True,
            }
            for repo, how in found.values()
        ]
        with self.engine.begin() as conn:
            result = upsert(conn, RepositoryRow, rows, return_ids=True)
            ids = result.ids or {}
            conn.execute(
                update(RepositoryRow)
                .where(
                    RepositoryRow.client_id == self.client_id,
                    RepositoryRow.integration_id == self.integration_id,
                    RepositoryRow.external_id.not_in([r["external_id"] for r in rows] or [""]),
                )
                .values(active=False)
            )
        targets = [
            RepoTarget(
                ids[(self.client_id, self.integration_id, repo.id)],
                repo.name_with_owner,
                repo.url or f"https://github.com/{repo.name_with_owner}",
            )
            for repo, _ in found.values()
        ]
        return sorted(targets, key=lambda t: t.full_name.lower())

    def _dev_status_repositories(self, conn: Connection) -> set[str]:
        rows = conn.execute(
            text(
                "SELECT DISTINCT repository, url FROM work_item_links"
                " WHERE client_id = :c AND evidence = 'dev_status'"
            ),
            {"c": self.client_id},
        ).all()
        names: set[str] = set()
        for repository, url in rows:
            name = _repo_name(repository) or _repo_name(url)
            if name:
                names.add(name.lower())
        return names

    def _known_project_keys(self, conn: Connection) -> list[str]:
        rows = conn.execute(
            text(
                "SELECT key FROM projects WHERE client_id = :c UNION "
                "SELECT DISTINCT project_key FROM work_items"
                " WHERE client_id = :c AND project_key IS NOT NULL"
            ),
            {"c": self.client_id},
        ).scalars()
        return [k for k in rows if k]

    # -- the resumable walk ----------------------------------------------------------------

    def _walk(
        self,
        repo: RepoTarget,
        scope: str,
        state: dict[str, Any],
        kind: str,
        fetch: Callable[[str | None, int | None], Page],
        stamp: Callable[[Any], datetime],
        load: Callable[[Connection, list[Any], list[Rejected]], None],
        overlap: timedelta = timedelta(0),
    ) -> None:
        st = dict(state.get(kind) or {})
        watermark = st.get("watermark")
        cursor: str | None = st.get("cursor")
        high: str | None = st.get("high")
        stop_before = parse_github_datetime(watermark) - overlap if watermark else None
        first: int | None = INCREMENTAL_FIRST_PAGE if watermark and cursor is None else None
        done_items = 0
        while True:
            self._check_cancel()
            page = fetch(cursor, first)
            first = None
            items = page.items
            if items and high is None:
                high = format_github_datetime(max(stamp(i) for i in items))
            done = not page.has_next or not items
            if stop_before is not None:
                kept = [i for i in items if stamp(i) >= stop_before]
                done = done or len(kept) < len(items)
                items = kept
            new = (
                {"watermark": high or watermark, "cursor": None, "high": None}
                if done
                else {"watermark": watermark, "cursor": page.end_cursor, "high": high}
            )
            with self.engine.begin() as conn:
                load(conn, items, page.rejected)
                self.stats.quarantined += quarantine(
                    conn, self.client_id, self.integration_id, self.ctx.run_id, page.rejected
                )
                state[kind] = new
                save_checkpoint(conn, self.client_id, self.integration_id, scope, state)
            if self.job.after_commit is not None:
                self.job.after_commit(f"{scope}:{kind}")
            done_items += len(items)
            self._report(f"{kind}", done=done_items, total=page.total)
            if done:
                return
            cursor = page.end_cursor

    # -- pull requests ---------------------------------------------------------------------

    def sync_pull_requests(self, repo: RepoTarget, scope: str, state: dict[str, Any]) -> None:
        sizes = self.cfg.sizes

        def fetch(cursor: str | None, first: int | None) -> Page:
            page = self.client.pull_request_page(repo.full_name, cursor, sizes, first=first)
            for pr in page.items:
                page.rejected.extend(self.client.complete_pull_request(pr, sizes))
            return page

        def load(conn: Connection, prs: list[Any], rejected: list[Rejected]) -> None:
            self._load_pull_requests(conn, repo, prs)

        self._walk(repo, scope, state, "pull_requests", fetch, lambda p: p.updated_at, load)

    def _load_pull_requests(
        self, conn: Connection, repo: RepoTarget, prs: list[PullRequest]
    ) -> None:
        if not prs:
            return
        c, i = self.client_id, self.integration_id
        rows = [
            {
                "client_id": c,
                "integration_id": i,
                "repository_id": repo.id,
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
            for pr in prs
        ]
        ids = upsert(conn, PullRequestRow, rows, return_ids=True).ids or {}
        pr_id = {pr.id: ids[(c, i, pr.id)] for pr in prs}
        commits: list[dict[str, Any]] = []
        reviews: list[dict[str, Any]] = []
        comments: list[dict[str, Any]] = []
        for pr in prs:
            pid = pr_id[pr.id]
            for node in pr.commits.nodes if pr.commits else []:
                if node is None:
                    continue
                cm = node.commit
                commits.append(
                    {
                        "client_id": c,
                        "integration_id": i,
                        "pull_request_id": pid,
                        "sha": cm.oid,
                        "author": cm.author_login,
                        "authored_at": cm.authored_date,
                        "committed_at": cm.committed_date,
                        "message": cm.message,
                        "additions": cm.additions,
                        "deletions": cm.deletions,
                    }
                )
            for review in pr.reviews.nodes if pr.reviews else []:
                if review is not None:
                    reviews.append(
                        {
                            "client_id": c,
                            "integration_id": i,
                            "pull_request_id": pid,
                            "external_id": review.id,
                            "author": review.author.login if review.author else None,
                            "state": review.state,
                            "submitted_at": review.submitted_at,
                        }
                    )
            for comment in pr.comments.nodes if pr.comments else []:
                if comment is not None:
                    comments.append(_comment_row(c, i, pid, comment, "issue"))
            for thread in pr.review_threads.nodes if pr.review_threads else []:
                for rc in thread.comments.nodes if thread else []:
                    if rc is not None:
                        comments.append(_comment_row(c, i, pid, rc, "review"))
        upsert(conn, PrCommit, commits)
        upsert(conn, PrReview, reviews)
        upsert(conn, PrComment, comments)
        pids = list(pr_id.values())
        # A force-push replaces commits; a deleted comment disappears: drop what is gone.
        _delete_missing(
            conn, "pr_commits", "sha", c, pids, [(r["pull_request_id"], r["sha"]) for r in commits]
        )
        _delete_missing(
            conn,
            "pr_reviews",
            "external_id",
            c,
            pids,
            [(r["pull_request_id"], r["external_id"]) for r in reviews],
        )
        _delete_missing(
            conn,
            "pr_comments",
            "external_id",
            c,
            pids,
            [(r["pull_request_id"], r["external_id"]) for r in comments],
        )
        self._link(conn, repo, prs)
        self.stats.pull_requests += len(prs)
        self.stats.commits += len(commits)
        self.stats.reviews += len(reviews)
        self.stats.comments += len(comments)

    # -- linking ---------------------------------------------------------------------------

    def _link(self, conn: Connection, repo: RepoTarget, prs: list[PullRequest]) -> None:
        found: list[tuple[PullRequest, str, str, str]] = []  # pr, key, evidence, detail
        for pr in prs:
            for key in self.matcher.find(pr.title):
                found.append((pr, key, "title", pr.title or ""))
            for key in self.matcher.find(pr.head_ref_name):
                found.append((pr, key, "branch", pr.head_ref_name or ""))
            seen: set[str] = set()
            for node in pr.commits.nodes if pr.commits else []:
                if node is None:
                    continue
                for key in self.matcher.find(node.commit.message):
                    if key not in seen:
                        seen.add(key)
                        found.append((pr, key, "commit", node.commit.oid))
        keys = sorted({k for _, k, _, _ in found})
        resolved = self._resolve_keys(conn, keys)
        self.stats.unresolved_keys += len(set(keys) - set(resolved))
        rows = [
            {
                "client_id": self.client_id,
                "work_item_id": resolved[key],
                "kind": "pull_request",
                "url": pr.url,
                "repository": repo.full_name,
                "pull_request_number": pr.number,
                "evidence": evidence,
                "detail": detail[:500],
            }
            for pr, key, evidence, detail in found
            if key in resolved
        ]
        upsert(conn, WorkItemLink, rows)
        urls = [pr.url for pr in prs]
        keep = [(r["work_item_id"], r["url"], r["evidence"]) for r in rows]
        conn.execute(
            text(
                "DELETE FROM work_item_links WHERE client_id = :c AND kind = 'pull_request'"
                " AND evidence = ANY(:ev) AND url = ANY(:urls)"
                " AND (work_item_id, url, evidence) NOT IN"
                " (SELECT * FROM unnest(CAST(:w AS bigint[]), CAST(:u AS text[]),"
                " CAST(:e AS text[])))"
            ),
            {
                "c": self.client_id,
                "ev": list(KEY_EVIDENCE),
                "urls": urls,
                "w": [k[0] for k in keep],
                "u": [k[1] for k in keep],
                "e": [k[2] for k in keep],
            },
        )
        self.stats.links += len(rows)

    def _resolve_keys(self, conn: Connection, keys: list[str]) -> dict[str, int]:
        """Key → work item id; a key an issue had before it moved resolves through the
        changelog's ``Key`` transition."""
        if not keys:
            return {}
        out: dict[str, int] = {}
        for key, wid in conn.execute(
            text(
                "SELECT upper(t.from_value), t.work_item_id FROM work_item_transitions t"
                " WHERE t.client_id = :c AND t.field = 'Key' AND upper(t.from_value) = ANY(:k)"
            ),
            {"c": self.client_id, "k": keys},
        ):
            out[key] = int(wid)
        for key, wid in conn.execute(
            text(
                # Aha! reference numbers often share a Jira project's prefix (PAY-12 in
                # both); code names the engineering item, never the plan.
                "SELECT upper(key), min(id) FROM work_items WHERE client_id = :c"
                " AND source <> 'aha' AND upper(key) = ANY(:k) GROUP BY upper(key)"
            ),
            {"c": self.client_id, "k": keys},
        ):
            out[key] = int(wid)
        return out

    # -- deployments -----------------------------------------------------------------------

    def sync_deployments(self, repo: RepoTarget, scope: str, state: dict[str, Any]) -> None:
        mode = self.cfg.deployments
        sizes = self.cfg.sizes
        overlap = timedelta(hours=self.cfg.deployment_overlap_hours)
        if mode in ("graphql", "auto") and state.get("deployment_source") != "actions":
            empty = False

            def fetch(cursor: str | None, first: int | None) -> Page:
                nonlocal empty
                page = self.client.deployment_page(repo.full_name, cursor, sizes)
                empty = cursor is None and page.total == 0
                return page

            def load(conn: Connection, deps: list[Any], rejected: list[Rejected]) -> None:
                self._load_deployments(conn, repo, [_deployment_row(d) for d in deps])

            self._walk(
                repo, scope, state, "deployments", fetch, lambda d: d.created_at, load, overlap
            )
            if not (mode == "auto" and empty):
                return
            state["deployment_source"] = "actions"
        if mode in ("actions", "auto"):
            self._sync_runs(repo, scope, state, overlap)

    def _sync_runs(
        self, repo: RepoTarget, scope: str, state: dict[str, Any], overlap: timedelta
    ) -> None:
        """Workflow runs of deploy workflows as deployments (REST, newest first). Runs pages
        shift as runs are added, so the checkpoint is a watermark only; a resumed walk
        starts from the newest page again and reloads idempotently."""
        wanted = re.compile(self.cfg.deploy_workflow, re.IGNORECASE)
        st = dict(state.get("workflow_runs") or {})
        watermark = st.get("watermark")
        stop_before = parse_github_datetime(watermark) - overlap if watermark else None
        high: datetime | None = None
        for runs, rejected in self.client.iter_workflow_runs(repo.full_name):
            self._check_cancel()
            done = False
            chosen = []
            for run in runs:
                if stop_before is not None and run.created_at < stop_before:
                    done = True
                    break
                high = max(high or run.created_at, run.created_at)
                if wanted.search(run.path or "") or wanted.search(run.name or ""):
                    chosen.append(run)
            with self.engine.begin() as conn:
                self._load_deployments(conn, repo, _run_rows(chosen))
                self.stats.quarantined += quarantine(
                    conn, self.client_id, self.integration_id, self.ctx.run_id, rejected
                )
                save_checkpoint(conn, self.client_id, self.integration_id, scope, state)
            if done:
                break
        if high is not None:
            state["workflow_runs"] = {
                "watermark": format_github_datetime(
                    max(high, parse_github_datetime(watermark) if watermark else high)
                )
            }
            with self.engine.begin() as conn:
                save_checkpoint(conn, self.client_id, self.integration_id, scope, state)

    def _load_deployments(
        self, conn: Connection, repo: RepoTarget, rows: list[dict[str, Any]]
    ) -> None:
        full = [
            {
                "client_id": self.client_id,
                "integration_id": self.integration_id,
                "repository_id": repo.id,
                **row,
            }
            for row in rows
        ]
        upsert(conn, DeploymentRow, full)
        self.stats.deployments += len(full)

    # -- progress, cancellation ------------------------------------------------------------

    def _check_cancel(self) -> None:
        if self.ctx.cancel.cancelled:
            raise Cancelled(
                "GitHub sync stopped between batches, as requested. Every committed page "
                "has its checkpoint; the next run resumes there."
            )

    def _on_http_event(self, event: HttpEvent) -> None:
        if isinstance(event, RateLimitWait):
            self.rate_limit_until = event.reset_at
            self._report(
                "waiting for the GitHub rate limit",
                message=f"waiting {event.seconds:.0f} s until "
                f"{event.reset_at:%H:%M:%S} UTC ({event.reason or 'rate limit'})",
            )

    def _report(
        self, what: str, *, done: int = 0, total: int | None = None, message: str = ""
    ) -> None:
        budget = self.client.budget()
        if not message and budget.remaining is not None:
            reset = f", resets {budget.reset_at:%H:%M} UTC" if budget.reset_at else ""
            message = f"GraphQL budget {budget.remaining}/{budget.limit} points{reset}"
        try:
            self.ctx.report(
                Progress(
                    phase=f"{self.phase}: {what}" if self.phase else what,
                    done=done,
                    total=total,
                    api_calls=self.client.counters().requests,
                    message=message,
                    rate_limit_until=self.rate_limit_until,
                    budget_remaining=budget.remaining,
                    budget_limit=budget.limit,
                    budget_reset_at=budget.reset_at,
                )
            )
        except Exception:  # a progress consumer's bug must not fail the sync
            log.exception("progress report failed")


# -- row builders ----------------------------------------------------------------------------


def _comment_row(c: int, i: int, pid: int, comment: Any, kind: str) -> dict[str, Any]:
    return {
        "client_id": c,
        "integration_id": i,
        "pull_request_id": pid,
        "external_id": comment.id,
        "author": comment.author.login if comment.author else None,
        "kind": kind,
        "created_at": comment.created_at,
    }


def _deployment_row(d: Deployment) -> dict[str, Any]:
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


def _run_rows(runs: Iterable[WorkflowRun]) -> list[dict[str, Any]]:
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


def _repo_name(value: str | None) -> str | None:
    """``owner/name`` from ``owner/name``, ``https://github.com/owner/name[/pull/1]``."""
    if not value:
        return None
    text_value = value.strip()
    m = re.match(r"^(?:https?://[^/]+/)?([\w.-]+)/([\w.-]+?)(?:\.git)?(?:/.*)?$", text_value)
    if m is None:
        return None
    return f"{m.group(1)}/{m.group(2)}"


def _delete_missing(
    conn: Connection,
    table: str,
    column: str,
    client_id: int,
    pr_ids: list[int],
    keep: Iterable[tuple[int, str]],
) -> None:
    keep = list(keep)
    conn.execute(
        text(
            f"DELETE FROM {table} WHERE client_id = :c AND pull_request_id = ANY(:p)"
            f" AND (pull_request_id, {column}) NOT IN"
            " (SELECT * FROM unnest(CAST(:kp AS bigint[]), CAST(:kv AS text[])))"
        ),
        {"c": client_id, "p": pr_ids, "kp": [k[0] for k in keep], "kv": [k[1] for k in keep]},
    )
