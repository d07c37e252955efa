"""azure_devops_sync: work items with their history, repositories, pull requests, builds and
deployments from one Azure DevOps organization (or Server collection).

Phases, each resumable from checkpoints committed in the same transaction as its rows:

1. metadata per project: the project, its work item types and their states (categories →
   the default flow mapping, as for Jira);
2. repositories of the projects;
3. work items per project (scope ``wit:<project>``): WIQL for ids with
   ``ChangedDate >= watermark`` in windows under the 20,000 limit, ``workitemsbatch`` by
   200; the watermark moves to the newest ``ChangedDate`` committed (never past an item
   the query listed but we have not loaded), then to the window's end; then the recycle bin
   marks deleted items inactive;
4. history (scope ``revisions``): the organisation's reporting revisions feed from its
   continuation token; each revision is compared with the previous one we read (kept in
   ``work_item_revision_heads``) and changes of state, assignee, board column and project
   become transitions;
5. pull requests per repository (scope ``prs:<repo id>``): every status on the first run;
   then those created or closed since the watermark and every active one, paged by
   ``$skip``; each with threads, commits and work items;
6. builds (``builds:<project>``), classic release deployments (``releases:<project>``) and
   YAML environment deployment records (``environment:<project>:<id>``).

Phases 3, 5 and 6 run in windows (pipelines/windows.py): a project's work items, a
repository's pull requests, a project's builds and deployments are independent chains, up
to ``windows`` of them at once in threads that only read; one writer (this thread) commits
each batch with its own checkpoint scope, in its chain's order, so a crash resumes every
window where it was. All requests of the integration share one rate gate
(connectors/azure_devops/client.py `ado_gate`): a 429 ``TF400733`` or a ``Retry-After``
seen by one window pauses every window until the time named. The history feed (phase 4)
is one chain by nature (a continuation token), between the two.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any, ClassVar, TypeVar

import httpx
from sqlalchemy import Connection

from connectors.azure_devops import Page
from connectors.azure_devops.models import (
    ReleaseDeployment,
    WorkItemRevision,
    format_ado_datetime,
    parse_ado_datetime,
)
from connectors.http import Clock, HttpEvent, RateLimitPolicy, RateLimitWait, RetryPolicy
from connectors.http.gate import RateGate
from pulse_console.pipelines.azure_devops import load, transform
from pulse_console.pipelines.azure_devops.extract import HttpOptions, Source
from pulse_console.pipelines.azure_devops.options import AzureDevOpsSyncOptions
from pulse_console.pipelines.azure_devops.transform import (
    PullRequestBundle,
    PullRequestLink,
    RepoInfo,
)
from pulse_console.pipelines.base import Progress, RunContext, RunResult
from pulse_console.pipelines.checkpoint import Checkpoint, commit_batch
from pulse_console.pipelines.collection import fewer_collections
from pulse_console.pipelines.progress import report, stop_if_cancelled
from pulse_console.pipelines.quarantine import RejectedItem
from pulse_console.pipelines.windows import fetch_windows
from storage.flow_defaults import propose_default_mappings

log = logging.getLogger("pulse_console.pipelines.azure_devops")

ONE_MS = timedelta(milliseconds=1)
T = TypeVar("T")


@dataclass
class Stats:
    projects: int = 0
    repositories: int = 0
    work_items: int = 0
    deactivated: int = 0
    revisions: int = 0
    transitions: int = 0
    pull_requests: int = 0
    commits: int = 0
    reviews: int = 0
    comments: int = 0
    links: int = 0
    ci_runs: int = 0
    deployments: int = 0
    quarantined: int = 0
    wiql_splits: int = 0

    @property
    def records(self) -> int:
        return (
            self.work_items
            + self.transitions
            + self.pull_requests
            + self.commits
            + self.reviews
            + self.comments
            + self.ci_runs
            + self.deployments
        )


class AzureDevOpsSync:
    """The azure_devops_sync job. ``full``: read everything again, ignoring watermarks.
    ``transport``/``clock``/policies/``gate``/``after_commit`` are for tests and benchmarks
    (``gate``: instead of the process's gate of the integration)."""

    job_name: ClassVar[str] = "azure_devops_sync"

    def __init__(
        self,
        *,
        full: bool = False,
        transport: httpx.BaseTransport | None = None,
        clock: Clock | None = None,
        retry: RetryPolicy | None = None,
        rate_limit: RateLimitPolicy | None = None,
        gate: RateGate | None = None,
        after_commit: Callable[[str], None] | None = None,
    ) -> None:
        self.full = full
        self.transport = transport
        self.clock = clock
        self.retry = retry
        self.rate_limit = rate_limit
        self.gate = gate
        self.after_commit = after_commit

    def run(self, ctx: RunContext) -> RunResult:
        options = AzureDevOpsSyncOptions.from_integration(ctx.integration)
        http = HttpOptions(self.transport, self.clock, self.retry, self.rate_limit, self.gate)
        with fewer_collections(), Source.open(ctx, http) as source:
            return _Run(self, ctx, options, source).run()


class _Run:
    def __init__(
        self,
        job: AzureDevOpsSync,
        ctx: RunContext,
        options: AzureDevOpsSyncOptions,
        source: Source,
    ) -> None:
        self.job = job
        self.ctx = ctx
        self.options = options
        self.source = source
        self.engine = ctx.database.engine
        self.target = load.Target(ctx.client_id, ctx.integration.id)
        self.stats = Stats()
        self.phase = "starting"
        self.rate_limit_until: datetime | None = None
        self.repos: dict[str, RepoInfo] = {}
        self.projects: list[str] = []
        self._fresh: set[str] = set()  # scopes a full run has already started afresh
        self.field_names: dict[str, str] = {}
        source.watch(self._on_http_event)

    # -- orchestration ---------------------------------------------------------------------

    def run(self) -> RunResult:
        started = time.monotonic()
        self.sync_metadata()
        self.sync_repositories()
        self._windows([partial(self.work_item_batches, p) for p in self.projects], "ado-wit")
        self.sync_revisions()
        repos = sorted(self.repos.items(), key=lambda kv: kv[1].full_name)
        self._windows(
            [
                partial(self.pull_request_batches, project, repo_id, repo)
                for project in self.projects
                for repo_id, repo in repos
                if repo.full_name.startswith(project + "/")
            ],
            "ado-prs",
        )
        if self.options.deployments:
            self._windows([partial(self.deployment_batches, p) for p in self.projects], "ado-ci")
        self.phase = "done"
        self._report("done")
        counters = self.source.counters()
        throttle = self.source.throttle()
        return RunResult(
            records=self.stats.records,
            api_calls=counters.requests,
            retries=counters.retries,
            rate_limit_waits=counters.rate_limit_waits,
            stats={
                "mode": "full" if self.job.full else "incremental",
                "seconds": round(time.monotonic() - started, 3),
                **self.stats.__dict__,
                "throttled_responses": throttle.delayed_responses,
                "throttle_delay_seconds": throttle.delay_seconds,
                # The TSTU budget as last reported, read by the health checks' budget line.
                "points_remaining": throttle.remaining,
                "points_limit": throttle.limit,
                "points_reset_at": throttle.reset_at.isoformat() if throttle.reset_at else None,
            },
        )

    def _commit(
        self,
        scope: str,
        state: dict[str, Any],
        load_rows: Callable[[Connection], None],
        rejected: Sequence[RejectedItem] = (),
    ) -> None:
        """One transaction: the rows, the payloads set aside, the checkpoint."""
        committed = commit_batch(Checkpoint(self.ctx, scope), state, load_rows, rejected)
        self.stats.quarantined += committed.quarantined
        if self.job.after_commit is not None:
            self.job.after_commit(scope)

    def _windows(self, chains: Sequence[Callable[[], Iterator[_Batch]]], name: str) -> None:
        """Run ``chains`` (a project's or a repository's batches, each chain with its own
        checkpoint scopes) ``windows`` at once; commit every batch here, in its chain's
        order, with its checkpoint (pipelines/windows.py)."""
        with fetch_windows(chains, concurrency=self.options.windows, name=name) as fetched:
            for _, batch in fetched:
                self._check_cancel()  # batches fetched ahead are fetched again next run
                self._commit(batch.scope, batch.state, batch.load, batch.rejected)
                self.stats.wiql_splits = max(self.stats.wiql_splits, batch.splits)
                if batch.what:
                    self.phase = batch.phase
                    self._report(batch.what, done=batch.done, total=batch.total)

    def _state(self, scope: str) -> dict[str, Any]:
        if self.job.full and scope not in self._fresh:
            self._fresh.add(scope)
            return {}
        return Checkpoint(self.ctx, scope).read()

    # -- metadata and repositories ---------------------------------------------------------

    def sync_metadata(self) -> None:
        self.phase = "projects"
        self._report("reading projects")
        visible = self.source.projects()
        wanted = {p.lower() for p in self.options.projects}
        chosen = [p for p in visible if not wanted or p.name.lower() in wanted]
        missing = wanted - {p.name.lower() for p in chosen}
        if missing:
            log.warning("projects not visible to the PAT: %s", ", ".join(sorted(missing)))
        self.projects = [p.name for p in chosen]
        self.stats.projects = len(chosen)
        statuses: list[dict[str, Any]] = []
        types: list[dict[str, Any]] = []
        for kinds in self._each_project(self.source.work_item_types):
            statuses.extend(transform.status_rows(kinds))
            types.extend(transform.issue_type_rows(kinds))
        fields = self.source.fields()
        self.field_names = {f.reference_name: f.name for f in fields}
        rows = [
            {"external_id": p.id, "key": p.name, "name": p.name, "raw": p.model_dump(mode="json")}
            for p in chosen
        ]
        with self.engine.begin() as conn:
            load.load_metadata(conn, self.target, rows, _unique(statuses), _unique(types))
            load.load_fields(conn, self.target, transform.field_rows(fields))
            propose_default_mappings(conn, self.target.client_id)

    def _each_project(self, call: Callable[[str], T]) -> list[T]:
        """``call`` for every project, ``windows`` at once (within the rate gate)."""
        workers = max(1, min(self.options.windows, len(self.projects)))
        with ThreadPoolExecutor(workers, thread_name_prefix="ado-meta") as pool:
            return list(pool.map(call, self.projects))

    def sync_repositories(self) -> None:
        self.phase = "repositories"
        rows: list[dict[str, Any]] = []
        for project, repos in zip(
            self.projects, self._each_project(self.source.repositories), strict=True
        ):
            rows.extend(transform.repository_row(project, r) for r in repos)
        with self.engine.begin() as conn:
            ids = load.load_repositories(conn, self.target, rows)
        self.repos = {
            r["external_id"].lower(): RepoInfo(
                ids[r["external_id"]], r["full_name"], r["url"] or ""
            )
            for r in rows
        }
        self.stats.repositories = len(rows)

    # -- work items ------------------------------------------------------------------------

    def work_item_batches(self, project: str) -> Iterator[_Batch]:
        """One project's work items (a window: runs in its own thread, writes nothing)."""
        scope = f"wit:{project}"
        phase = f"{project}: work items"
        state = self._state(scope)
        watermark = _when(state.get("watermark"))
        now = self.source.server_time(project)
        until = now + ONE_MS
        done = 0
        for window in self.source.windows(project, watermark, until):
            total = len(window.ids)
            for start in range(0, total, 200):
                self._check_cancel()
                chunk = window.ids[start : start + 200]
                page = self.source.work_items(chunk)
                rows = [transform.work_item_row(i, self.field_names) for i in page.items]
                links = [link for i in page.items for link in transform.artifact_links(i)]
                # The newest change we may step past: not after this window, and not one
                # made after the query (its item may still sit later in the list).
                cap = min(until, window.as_of or until)
                stamps = [s for i in page.items if (s := transform.changed_at(i)) and s < cap]
                high = max(stamps, default=None)
                if high is not None and (watermark is None or high > watermark):
                    watermark = high
                state = {"watermark": _iso(watermark)}
                done += len(chunk)
                yield _Batch(
                    scope,
                    state,
                    partial(self._load_items, rows, links),
                    page.rejected,
                    phase=phase,
                    what="work items",
                    done=done,
                    total=total,
                    splits=window.splits,
                )
            watermark = window.until if window.until < until else now
            state = {"watermark": _iso(watermark)}
            yield _Batch(scope, state, _nothing, splits=window.splits)
        deleted = [str(i) for i in self.source.deleted(project)]
        yield _Batch(scope, state, partial(self._deactivate, deleted))

    def _deactivate(self, deleted: list[str], conn: Connection) -> None:
        self.stats.deactivated += load.deactivate_work_items(conn, self.target, deleted)

    # -- history ---------------------------------------------------------------------------

    def sync_revisions(self) -> None:
        scope = "revisions"
        self.phase = "history"
        state = self._state(scope)
        token: str | None = state.get("token")
        wanted = {p.lower() for p in self.projects}
        done = 0
        while True:
            self._check_cancel()
            page = self.source.revisions(token, self.options.revisions_page_size)
            revs = [
                r
                for r in page.items
                if str(r.fields.get("System.TeamProject", "")).lower() in wanted
            ]
            with self.engine.connect() as conn:
                known = load.work_item_ids(conn, self.target, (str(r.id) for r in revs))
            missing = sorted({r.id for r in revs if str(r.id) not in known})
            fetched = self.source.work_items(missing)
            token = page.continuation

            rows = [transform.work_item_row(i, self.field_names) for i in fetched.items]
            self._commit(
                scope,
                {"token": token},
                partial(self._load_revisions, revs, known, rows),
                [*page.rejected, *fetched.rejected],
            )
            done += len(page.items)
            self.stats.revisions += len(revs)
            self._report("revisions", done=done)
            if page.is_last or not page.items:
                return

    def _load_items(
        self, rows: list[dict[str, Any]], links: list[PullRequestLink], conn: Connection
    ) -> None:
        load.load_work_items(conn, self.target, rows)
        self.stats.work_items += len(rows)
        self.stats.links += load.load_links(
            conn,
            self.target,
            links,
            self.repos,
            evidence="artifact_link",
            work_items=[r["external_id"] for r in rows],
        )

    def _load_revisions(
        self,
        revs: list[WorkItemRevision],
        known: dict[str, int],
        items: list[dict[str, Any]],
        conn: Connection,
    ) -> None:
        """Items first read here (created after this run's WIQL), then the revisions."""
        ids = dict(known)
        if items:
            ids.update(load.load_work_items(conn, self.target, items))
            self.stats.work_items += len(items)
        heads = load.revision_heads(conn, ids.values())
        changed: dict[int, tuple[int, dict[str, Any]]] = {}
        transitions: list[dict[str, Any]] = []
        for rev in sorted(revs, key=lambda r: (r.id, r.rev)):
            wid = ids.get(str(rev.id))
            if wid is None:
                continue  # deleted before we could read it
            head = changed.get(wid) or heads.get(wid)
            if head is not None and rev.rev <= head[0]:
                continue  # already read (a re-read page)
            previous = head[1] if head is not None and head[0] == rev.rev - 1 else None
            rows = transform.revision_changes(rev, previous)
            transitions.extend({**r, "work_item_id": wid} for r in rows)
            changed[wid] = (rev.rev, transform.head_fields(rev))
        load.load_revisions(conn, self.target, transitions, changed)
        self.stats.transitions += len(transitions)

    # -- pull requests ---------------------------------------------------------------------

    def pull_request_batches(self, project: str, repo_id: str, repo: RepoInfo) -> Iterator[_Batch]:
        """One repository's pull requests (a window). Stages: ``all`` on the first run; then
        ``created`` and ``closed`` since the watermark (minus the overlap) and ``active``.
        ``skip`` is the committed position in the current stage's newest-first list."""
        scope = f"prs:{repo_id}"
        phase = f"{repo.full_name}: pull requests"
        state = self._state(scope)
        watermark = _when(state.get("watermark"))
        started = _when(state.get("started")) or self.source.server_time(project)
        stages = (
            [("all", None, None)]
            if watermark is None
            else [
                ("created", "all", "Created"),
                ("closed", "all", "Closed"),
                ("active", "active", None),
            ]
        )
        stage_names = [s[0] for s in stages]
        stage = state.get("stage")
        current = stage if isinstance(stage, str) and stage in stage_names else stage_names[0]
        since = watermark - timedelta(minutes=self.options.overlap_minutes) if watermark else None
        done = 0
        for name, status, time_range in stages[stage_names.index(current) :]:
            skip = int(state.get("skip") or 0) if name == current else 0
            for page in self.source.pull_requests(
                project,
                repo_id,
                status=status or "all",
                min_time=since if time_range else None,
                time_range=time_range,
                top=self.options.pull_request_page_size,
                skip=skip,
            ):
                self._check_cancel()
                bundles = [self.source.bundle(project, repo_id, pr) for pr in page.items]
                links = [
                    PullRequestLink(w, repo_id, b.pr.pull_request_id, "pr_work_items")
                    for b in bundles
                    for w in b.work_items
                ]
                skip += len(page.items) + len(page.rejected)
                state = {
                    "watermark": _iso(watermark),
                    "started": _iso(started),
                    "stage": name,
                    "skip": skip,
                }
                done += len(page.items)
                yield _Batch(
                    scope,
                    state,
                    partial(self._load_prs, repo, bundles, links),
                    page.rejected,
                    phase=phase,
                    what=f"pull requests ({name})",
                    done=done,
                )
        yield _Batch(scope, {"watermark": _iso(started)}, _nothing)

    def _load_prs(
        self,
        repo: RepoInfo,
        bundles: list[PullRequestBundle],
        links: list[PullRequestLink],
        conn: Connection,
    ) -> None:
        counts = load.load_pull_requests(conn, self.target, repo, bundles)
        self.stats.pull_requests += counts.pull_requests
        self.stats.commits += counts.commits
        self.stats.reviews += counts.reviews
        self.stats.comments += counts.comments
        urls = [transform.pull_request_url(repo, b.pr.pull_request_id) for b in bundles]
        self.stats.links += load.load_links(
            conn, self.target, links, self.repos, evidence="pr_work_items", pull_request_urls=urls
        )

    # -- builds and deployments ------------------------------------------------------------

    def deployment_batches(self, project: str) -> Iterator[_Batch]:
        """One project's builds, release deployments and environment records (a window)."""
        yield from self.build_batches(project)
        yield from self.release_deployment_batches(project)
        yield from self.environment_batches(project)

    def build_batches(self, project: str) -> Iterator[_Batch]:
        """Builds queued since the watermark, continuation-paged; those still running at
        the end are read again by id on the next run until they finish."""
        scope = f"builds:{project}"
        phase = f"{project}: builds"
        state = self._state(scope)
        running = [int(i) for i in state.get("running") or []]
        watermark = _when(state.get("watermark"))
        token: str | None = state.get("token")
        done = 0
        if running and token is None:
            for page in self.source.builds_by_id(project, running):
                state = _with_running(page, state)
                done += len(page.items)
                yield self._builds_batch(scope, page, state, phase, done)
        for page, new in self._walk(
            state,
            lambda token: self.source.builds(project, watermark, token),
            lambda build: build.queue_time,
            _with_running,
        ):
            done += len(page.items)
            yield self._builds_batch(scope, page, new, phase, done)

    def _walk(
        self,
        state: dict[str, Any],
        fetch: Callable[[str | None], Page[Any]],
        stamp: Callable[[Any], datetime | None],
        settle: Callable[[Page[Any], dict[str, Any]], dict[str, Any]] = lambda page, new: new,
    ) -> Iterator[tuple[Page[Any], dict[str, Any]]]:
        """A continuation-paged read from the watermark: each page with the state to commit
        with it (the token to resume from; the last one moves the watermark to the newest
        stamp seen). Other keys of ``state`` (running builds) are carried along, as
        ``settle`` leaves them after each page."""
        token: str | None = state.get("token")
        high = _when(state.get("high"))
        while True:
            self._check_cancel()
            page = fetch(token)
            token = page.continuation
            high = max(filter(None, [high, *map(stamp, page.items)]), default=None)
            kept = {k: v for k, v in state.items() if k not in ("watermark", "token", "high")}
            if token is None:
                state = {**kept, "watermark": _iso(high) or state.get("watermark")}
            else:
                state = {
                    **kept,
                    "watermark": state.get("watermark"),
                    "token": token,
                    "high": _iso(high),
                }
            state = settle(page, state)
            yield page, state
            if token is None:
                return

    def _builds_batch(
        self, scope: str, page: Page[Any], state: dict[str, Any], phase: str, done: int
    ) -> _Batch:
        rows = []
        for b in page.items:
            repo = self.repos.get((b.repository.id or "").lower()) if b.repository else None
            rows.append({**transform.ci_run_row(b), "repository_id": repo.id if repo else None})

        def rows_in(conn: Connection) -> None:
            self.stats.ci_runs += load.load_ci_runs(conn, self.target, rows)

        return _Batch(scope, state, rows_in, page.rejected, phase=phase, what="builds", done=done)

    def release_deployment_batches(self, project: str) -> Iterator[_Batch]:
        """Classic release deployments modified since the watermark (so one that finished
        since the last run comes again), continuation-paged in id order."""
        scope = f"releases:{project}"
        phase = f"{project}: release deployments"
        state = self._state(scope)
        watermark = _when(state.get("watermark"))
        since = watermark - timedelta(minutes=self.options.overlap_minutes) if watermark else None
        done = 0
        for page, new in self._walk(
            state,
            lambda token: self.source.release_deployments(project, since, token),
            _modified,
        ):
            facts = [transform.release_deployment(d) for d in page.items]
            done += len(page.items)
            yield _Batch(
                scope,
                new,
                partial(self._load_deployments, facts),
                page.rejected,
                phase=phase,
                what="release deployments",
                done=done,
            )

    def environment_batches(self, project: str) -> Iterator[_Batch]:
        """YAML environment deployment records, newest first, down to the newest id of the
        last run (or the oldest one then still running)."""
        for env in self.source.environments(project):
            scope = f"environment:{project}:{env.id}"
            state = self._state(scope)
            floor = int(state.get("floor") or 0)
            token: str | None = state.get("token")
            high = int(state.get("high") or 0)
            running: set[int] = set(state.get("running") or [])
            while True:
                self._check_cancel()
                page = self.source.environment_records(project, env.id, token)
                records = [r for r in page.items if r.id > floor]
                for r in records:
                    high = max(high, r.id)
                    if r.result is None:
                        running.add(r.id)
                    else:
                        running.discard(r.id)
                token = page.continuation if len(records) == len(page.items) else None
                if token is None:
                    stop = min(running, default=high + 1) - 1
                    state = {"floor": max(floor, stop), "high": high, "running": sorted(running)}
                else:
                    state = {
                        "floor": floor,
                        "token": token,
                        "high": high,
                        "running": sorted(running),
                    }
                facts = [transform.environment_deployment(r, env.name) for r in records]
                yield _Batch(scope, state, partial(self._load_deployments, facts), page.rejected)
                if token is None:
                    break

    def _load_deployments(self, facts: list[transform.DeploymentFacts], conn: Connection) -> None:
        self.stats.deployments += load.load_deployments(conn, self.target, facts, self.repos)

    # -- progress, cancellation ------------------------------------------------------------

    def _check_cancel(self) -> None:
        stop_if_cancelled(
            self.ctx,
            "Azure DevOps sync stopped between batches, as requested. Every committed "
            "batch has its checkpoint; the next run resumes there.",
        )

    def _on_http_event(self, event: HttpEvent) -> None:
        if isinstance(event, RateLimitWait):
            self.rate_limit_until = event.reset_at
            self._report(
                "waiting for Azure DevOps throttling",
                message=f"waiting {event.seconds:.1f} s until {event.reset_at:%H:%M:%S} UTC "
                f"({event.reason or 'rate limit'})",
            )

    def _report(
        self, what: str, *, done: int = 0, total: int | None = None, message: str = ""
    ) -> None:
        t = self.source.throttle()
        if not message and t.remaining is not None:
            reset = f", resets {t.reset_at:%H:%M:%S} UTC" if t.reset_at else ""
            message = (
                f"TSTU remaining {t.remaining}/{t.limit}{reset}; {t.delayed_responses} delayed"
            )
        report(
            self.ctx,
            Progress(
                phase=f"{self.phase}: {what}" if what != self.phase else what,
                done=done,
                total=total,
                api_calls=self.source.counters().requests,
                message=message,
                rate_limit_until=self.rate_limit_until,
                budget_remaining=t.remaining,
                budget_limit=t.limit,
                budget_reset_at=t.reset_at,
            ),
        )


@dataclass
class _Batch:
    """One commit a window's chain prepared in its thread: the rows (``load``), the payloads
    set aside, the checkpoint ``state`` of ``scope``, and what progress to report."""

    scope: str
    state: dict[str, Any]
    load: Callable[[Connection], None]
    rejected: Sequence[RejectedItem] = ()
    phase: str = ""
    what: str = ""  # empty: nothing to report
    done: int = 0
    total: int | None = None
    splits: int = 0  # WIQL windows halved so far (the 20,000 limit)


def _nothing(conn: Connection) -> None:
    """A commit of the checkpoint alone."""


def _with_running(page: Page[Any], state: dict[str, Any]) -> dict[str, Any]:
    """``state`` with the builds of ``page`` still running added to ``running`` and the
    finished ones taken out (a new dict: a batch's state never changes after it is made)."""
    running = set(state.get("running") or [])
    for b in page.items:
        if b.finished:
            running.discard(b.id)
        else:
            running.add(b.id)
    return {**state, "running": sorted(running)}


def _unique(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return list({r["external_id"]: r for r in rows}.values())


def _when(value: Any) -> datetime | None:
    return parse_ado_datetime(value) if value else None


def _iso(value: datetime | None) -> str | None:
    return format_ado_datetime(value) if value else None


def _modified(d: ReleaseDeployment) -> datetime | None:
    return d.last_modified_on or d.completed_on or d.started_on
