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

Repositories are independent windows (pipelines/windows.py): up to ``windows`` of them are
walked at once, each by its own client, every client of the integration behind one rate
gate (GitHub's points budget and its secondary limits on concurrency and points per minute:
connectors/github/client.py `github_gate`); one writer commits each page with its
repository's checkpoint, so a crash resumes every repository where it was.
"""

from __future__ import annotations

import functools
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar

import httpx
from sqlalchemy import Connection

from connectors.github import GitHubClient, Page
from connectors.github.budget import BudgetSnapshot
from connectors.github.models import format_github_datetime, parse_github_datetime
from connectors.http import Clock, HttpEvent, RateLimitPolicy, RateLimitWait, RetryPolicy
from connectors.validation import Rejected
from pulse_console.pipelines.base import Progress, RunContext, RunResult
from pulse_console.pipelines.checkpoint import Checkpoint, commit_batch
from pulse_console.pipelines.collection import fewer_collections
from pulse_console.pipelines.github import extract, transform
from pulse_console.pipelines.github.load import (
    RepoTarget,
    Stats,
    Tenant,
    load_deployments,
    load_pull_requests,
    load_repositories,
)
from pulse_console.pipelines.github.options import GitHubConfigError, GitHubSyncConfig
from pulse_console.pipelines.github.transform import Row
from pulse_console.pipelines.progress import report, stop_if_cancelled
from pulse_console.pipelines.windows import commit_windows
from pulse_console.pipelines.work_item_keys import KeyMatcher
from storage import pull_requests as stored

INCREMENTAL_FIRST_PAGE = 10
STOPPED = (
    "GitHub sync stopped between batches, as requested. Every committed page "
    "has its checkpoint; the next run resumes there."
)


def _last_page_size(page: Page, fetched: int) -> int | None:
    """``first`` for the next page when it is the last one: only what is left.

    GitHub charges a page by the sizes asked for, not the items returned
    (https://docs.github.com/graphql/overview/rate-limits-and-node-limits-for-the-graphql-api,
    "Calculating a rate limit score"), so a last page of 11 pull requests asked as 11 costs
    1 point where asking 50 costs 5. ``totalCount`` can grow meanwhile: ``hasNextPage``
    still decides when the walk ends, so a short guess costs a page, never an item.
    """
    if not page.has_next or page.total is None:
        return None
    left = page.total - fetched
    return left if 0 < left < len(page.items) else None


@dataclass
class _Batch:
    """One page to commit: the repository's checkpoint after it (a copy), and its rows."""

    state: dict[str, Any]
    load: Callable[[Connection], Any]
    rejected: list[Rejected] = field(default_factory=list)
    kind: str | None = None  # "pull_requests" | "deployments" (the after_commit hook's)
    done: int = 0
    total: int | None = None


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

    def run(self, ctx: RunContext) -> RunResult:
        cfg = GitHubSyncConfig.from_integration(ctx.integration)
        with fewer_collections(), self.open_client(ctx, cfg) as client:
            return _Run(self, ctx, cfg, client).run()

    def open_client(self, ctx: RunContext, cfg: GitHubSyncConfig) -> GitHubClient:
        """A client of the integration (one per repository walked at once)."""
        return extract.open_client(
            ctx,
            cfg,
            transport=self.transport,
            clock=self.clock,
            retry=self.retry,
            rate_limit=self.rate_limit,
        )


class _Run:
    def __init__(
        self, job: GitHubSync, ctx: RunContext, cfg: GitHubSyncConfig, client: GitHubClient
    ) -> None:
        self.job = job
        self.ctx = ctx
        self.cfg = cfg
        self.client = client
        self.engine = ctx.database.engine
        self.tenant = Tenant(ctx.client_id, ctx.integration.id)
        self.stats = Stats()
        self.rate_limit_until: datetime | None = None
        self.phase: str | None = None  # the repository committed last
        client.set_observer(self._on_http_event)
        self.matcher = KeyMatcher(())
        self.clients = [client]  # the discovery client, then one per repository walk
        self.lock = threading.Lock()

    # -- orchestration ---------------------------------------------------------------------

    def run(self) -> RunResult:
        started = time.monotonic()
        self._report("discovering repositories")
        with self.engine.connect() as conn:
            keys = self.cfg.project_keys or stored.known_project_keys(conn, self.ctx.client_id)
            self.matcher = KeyMatcher(keys)
        repos = self.discover()
        self.stats.repositories = len(repos)
        scopes = [Checkpoint(self.ctx, f"repo:{repo.full_name}") for repo in repos]
        states = [{} if self.job.full else scope.read() for scope in scopes]
        full = not repos or any(
            not (state.get("pull_requests") or {}).get("watermark") for state in states
        )
        checkpoints: dict[str, Any] = {}

        def commit(checkpoint: Checkpoint, index: int, batch: _Batch) -> None:
            stop_if_cancelled(self.ctx, STOPPED)  # pages fetched ahead are fetched again
            committed = commit_batch(checkpoint, batch.state, batch.load, batch.rejected)
            self.stats.quarantined += committed.quarantined
            checkpoints[checkpoint.scope] = batch.state
            if batch.kind is None:
                return
            if self.job.after_commit is not None:
                self.job.after_commit(f"{checkpoint.scope}:{batch.kind}")
            self.phase = f"{repos[index].full_name} ({index + 1}/{len(repos)})"
            self._report(batch.kind, done=batch.done, total=batch.total)

        commit_windows(
            scopes,
            repos,
            lambda index, repo: self._repository(repo, states[index]),
            commit,
            concurrency=self.cfg.windows,
            name="github-repo",
        )
        counters = sum((c.counters() for c in self.clients[1:]), self.client.counters())
        budget = self._budget()
        self.phase = None
        self._report("done")
        return RunResult(
            records=self.stats.records,
            api_calls=counters.requests,
            retries=counters.retries,
            rate_limit_waits=counters.rate_limit_waits,
            checkpoint=checkpoints,
            stats={
                "mode": "full" if full else "incremental",
                "seconds": round(time.monotonic() - started, 3),
                **self.stats.__dict__,
                "graphql_calls": sum(c.graphql_calls for c in self.clients),
                "points_used": sum(c.points_used for c in self.clients),
                "points_remaining": budget.remaining,
                "points_limit": budget.limit,
                "points_reset_at": budget.reset_at.isoformat() if budget.reset_at else None,
            },
        )

    def _repository(self, repo: RepoTarget, state: dict[str, Any]) -> Iterator[_Batch]:
        """One repository's pages (a window: runs in a fetch thread with its own client)."""
        client = self.job.open_client(self.ctx, self.cfg)
        client.set_observer(self._on_http_event)
        with self.lock:
            self.clients.append(client)
        with client:
            yield from self.sync_pull_requests(client, repo, state)
            if self.cfg.deployments != "off":
                yield from self.sync_deployments(client, repo, state)

    def _budget(self) -> BudgetSnapshot:
        """The account's GraphQL budget as last reported: the lowest any client saw."""
        with self.lock:
            budgets = [c.budget() for c in self.clients]
        known = [b for b in budgets if b.remaining is not None]
        return min(known, key=lambda b: b.remaining or 0) if known else budgets[0]

    def discover(self) -> list[RepoTarget]:
        named: set[str] = set()
        if self.cfg.dev_status:
            with self.engine.connect() as conn:
                references = stored.dev_status_references(conn, self.ctx.client_id)
            for repository, url in references:
                name = transform.repo_name(repository) or transform.repo_name(url)
                if name:
                    named.add(name.lower())
        found = extract.discover(self.client, self.cfg, named)
        with self.engine.begin() as conn:
            return load_repositories(conn, self.tenant, found)

    # -- the resumable walk ----------------------------------------------------------------

    def _walk(
        self,
        state: dict[str, Any],
        kind: str,
        fetch: extract.PageFetch,
        stamp: Callable[[Any], datetime],
        load: Callable[[list[Any], Connection], None],  # (page items, conn)
        overlap: timedelta = timedelta(0),
    ) -> Iterator[_Batch]:
        st = dict(state.get(kind) or {})
        watermark = st.get("watermark")
        cursor: str | None = st.get("cursor")
        high: str | None = st.get("high")
        stop_before = parse_github_datetime(watermark) - overlap if watermark else None
        first: int | None = INCREMENTAL_FIRST_PAGE if watermark and cursor is None else None
        done_items = fetched = 0
        while True:
            stop_if_cancelled(self.ctx, STOPPED)
            page = fetch(cursor, first)
            fetched += len(page.items)
            first = _last_page_size(page, fetched)
            items = page.items
            if items and high is None:
                high = format_github_datetime(max(stamp(i) for i in items))
            done = not page.has_next or not items
            if stop_before is not None:
                kept = [i for i in items if stamp(i) >= stop_before]
                done = done or len(kept) < len(items)
                items = kept
            state[kind] = (
                {"watermark": high or watermark, "cursor": None, "high": None}
                if done
                else {"watermark": watermark, "cursor": page.end_cursor, "high": high}
            )
            done_items += len(items)
            yield _Batch(
                dict(state),  # this page's checkpoint, whatever the walk does next
                functools.partial(load, items),
                list(page.rejected),
                kind,
                done_items,
                page.total,
            )
            if done:
                return
            cursor = page.end_cursor

    def sync_pull_requests(
        self, client: GitHubClient, repo: RepoTarget, state: dict[str, Any]
    ) -> Iterator[_Batch]:
        def load(prs: list[Any], conn: Connection) -> None:
            load_pull_requests(conn, self.tenant, repo, prs, self.matcher, self.stats)

        fetch = extract.pull_requests(client, repo.full_name, self.cfg)
        yield from self._walk(state, "pull_requests", fetch, lambda p: p.updated_at, load)

    # -- deployments -----------------------------------------------------------------------

    def sync_deployments(
        self, client: GitHubClient, repo: RepoTarget, state: dict[str, Any]
    ) -> Iterator[_Batch]:
        mode = self.cfg.deployments
        overlap = timedelta(hours=self.cfg.deployment_overlap_hours)
        if mode in ("graphql", "auto") and state.get("deployment_source") != "actions":
            pages = extract.deployments(client, repo.full_name, self.cfg)
            empty = False

            def fetch(cursor: str | None, first: int | None) -> Page:
                nonlocal empty
                page = pages(cursor, first)
                empty = cursor is None and page.total == 0
                return page

            def load(deps: list[Any], conn: Connection) -> None:
                rows = [transform.deployment_row(d) for d in deps]
                load_deployments(conn, self.tenant, repo, rows, self.stats)

            yield from self._walk(
                state, "deployments", fetch, lambda d: d.created_at, load, overlap
            )
            if not (mode == "auto" and empty):
                return
            state["deployment_source"] = "actions"
        if mode in ("actions", "auto"):
            yield from self._sync_runs(client, repo, state, overlap)

    def _sync_runs(
        self, client: GitHubClient, repo: RepoTarget, state: dict[str, Any], overlap: timedelta
    ) -> Iterator[_Batch]:
        """Workflow runs of deploy workflows as deployments (REST, newest first). Runs pages
        shift as runs are added, so the checkpoint is a watermark only; a resumed walk
        starts from the newest page again and reloads idempotently."""
        wanted = re.compile(self.cfg.deploy_workflow, re.IGNORECASE)
        st = dict(state.get("workflow_runs") or {})
        watermark = st.get("watermark")
        stop_before = parse_github_datetime(watermark) - overlap if watermark else None
        high: datetime | None = None

        def write(rows: list[Row], conn: Connection) -> None:
            load_deployments(conn, self.tenant, repo, rows, self.stats)

        for runs, rejected in client.iter_workflow_runs(repo.full_name):
            stop_if_cancelled(self.ctx, STOPPED)
            done = False
            chosen = []
            for run in runs:
                if stop_before is not None and run.created_at < stop_before:
                    done = True
                    break
                high = max(high or run.created_at, run.created_at)
                if transform.is_deploy_run(run, wanted):
                    chosen.append(run)
            rows = transform.run_rows(chosen)
            yield _Batch(dict(state), functools.partial(write, rows), list(rejected))
            if done:
                break
        if high is not None:
            state["workflow_runs"] = {
                "watermark": format_github_datetime(
                    max(high, parse_github_datetime(watermark) if watermark else high)
                )
            }
            yield _Batch(dict(state), lambda conn: None)

    # -- progress --------------------------------------------------------------------------

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
        budget = self._budget()
        if not message and budget.remaining is not None:
            reset = f", resets {budget.reset_at:%H:%M} UTC" if budget.reset_at else ""
            message = f"GraphQL budget {budget.remaining}/{budget.limit} points{reset}"
        report(
            self.ctx,
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
            ),
        )


__all__ = ["GitHubConfigError", "GitHubSync"]
