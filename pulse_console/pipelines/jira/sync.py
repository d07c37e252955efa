"""The Jira sync job: complete, incremental, crash-safe extraction of Jira into PostgreSQL.

One run:

1. **discovering** — who we are (JQL time zone), projects (all, or the configured ones),
   statuses, issue types, fields (custom field names) and users; loaded in one transaction.
   Incremental runs reuse metadata younger than ``metadata_refresh_minutes``.
2. **issues** — a bounded JQL ordered ``updated ASC, id ASC``: everything on the first run
   (or ``--full``, or when the project set changed), else issues updated since the committed
   watermark minus an overlap. Page by page: complete changelogs (≤1 bulk call per page),
   dev-status links per changed issue, then one transaction with the page's work items,
   transitions, links, quarantined payloads and the checkpoint (watermark + next page
   token). A crash at any instant resumes from the last committed page with the same JQL.
   Issues whose stored ``updated`` is unchanged are not fetched again on incremental runs.
   Only the searches wait for each other: a page's changelogs, dev-status and rows are
   prepared in a pool while its chain searches on (pipelines/jira/pages.py), and the writer
   commits every page ready when it asks in one transaction (with the checkpoint of each
   window they belong to). A full run's windows run in window processes when the client
   talks HTTP (pipelines/jira/window_process.py); this process then only writes.
3. **reconciling** — every issue id the JQL still matches (id-only pages of up to 5,000);
   stored items missing from it are marked ``active = false`` (deleted, moved to an unsynced
   project, no longer visible), and ids the table lacks or holds inactive are fetched again.

Rate limits surface as ``RateLimited`` (the engine parks the job), cancellation is honoured
between pages (and before every request by the HTTP stack), and a payload that does not
validate is quarantined with its raw JSON while the sync goes on.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar

import httpx
from sqlalchemy import Connection

from connectors.errors import RequestRejected
from connectors.http import HttpCounters, HttpEvent, RateLimitWait
from connectors.http.gate import RateGate
from connectors.jira import JiraClient, SearchPage, project_clause, sync_jql, window_jql
from connectors.jira.development import development_field_id
from connectors.validation import Rejected
from pulse_console.pipelines.base import Progress, RunContext, RunResult
from pulse_console.pipelines.checkpoint import Checkpoint, commit_batch, commit_batches
from pulse_console.pipelines.collection import fewer_collections
from pulse_console.pipelines.jira import load, transform
from pulse_console.pipelines.jira.extract import (
    STOPPED,
    JiraExtract,
    JiraSyncError,
    open_client,
    run_token,
)
from pulse_console.pipelines.jira.load import PageCounts, PageRows
from pulse_console.pipelines.jira.options import JiraSyncOptions
from pulse_console.pipelines.jira.pages import (
    ChainSetup,
    Fetched,
    PageChains,
    Version,
    ids_of,
    later,
)
from pulse_console.pipelines.jira.plan import plan_windows
from pulse_console.pipelines.jira.state import SCOPE, Metadata, RunState, SyncState, WindowState
from pulse_console.pipelines.jira.transform import Tenant
from pulse_console.pipelines.jira.window_process import WindowProcesses, WindowSpec
from pulse_console.pipelines.progress import report, stop_if_cancelled
from pulse_console.pipelines.quarantine import BadResponse
from pulse_console.pipelines.windows import (
    commit_window_groups,
    fetch_window_groups,
    window_scope,
)
from storage.flow_defaults import propose_default_mappings

RECONCILE_FETCH_CHUNK = 100

AHEAD_PAGES = 2
"""Pages one chain fetches ahead of the writer (who commits what is ready in one go)."""


class JiraSync:
    """The ``jira_sync`` pipeline (see the module docstring).

    The engine calls ``JiraSync().run(ctx)``; every constructor argument is optional:
    ``full`` forces a full sync, ``transport`` routes HTTP through a given httpx transport
    (the sandbox in tests and benchmarks), ``http_options`` passes retry/rate-limit/budget
    policies, a clock or a timeout to the Jira client.
    """

    job_name: ClassVar[str] = "jira_sync"

    def __init__(
        self,
        *,
        full: bool = False,
        transport: httpx.BaseTransport | None = None,
        http_options: dict[str, Any] | None = None,
    ) -> None:
        self.full = full
        self.transport = transport
        self.http_options = dict(http_options or {})

    def run(self, ctx: RunContext) -> RunResult:
        options = JiraSyncOptions.from_integration(ctx.integration)
        with (
            fewer_collections(),
            open_client(
                ctx, options, transport=self.transport, http_options=self.http_options
            ) as client,
        ):
            run = _Run(ctx, options, client, force_full=self.full)
            run.transport, run.http_options = self.transport, self.http_options
            return run.execute()


@dataclass
class _Totals:
    counts: PageCounts = field(default_factory=PageCounts)
    pages: int = 0
    reactivated: int = 0
    metadata: dict[str, int] = field(default_factory=dict)
    flow_proposal: dict[str, int] = field(default_factory=dict)


def _earlier(a: datetime | None, b: datetime | None) -> datetime | None:
    return min(a, b) if a is not None and b is not None else a or b


class _DatabaseLookup:
    """The stored versions and development summaries, read from the run's database."""

    def __init__(self, ctx: RunContext, tenant: Tenant) -> None:
        self.ctx = ctx
        self.tenant = tenant

    def versions(self, issue_ids: list[str]) -> dict[str, Version]:
        with self.ctx.database.engine.connect() as conn:
            return load.stored_versions(conn, self.tenant, issue_ids)

    def dev_summaries(self, issue_ids: list[str]) -> dict[str, str | None]:
        with self.ctx.database.engine.connect() as conn:
            return load.stored_dev_summaries(conn, self.tenant, issue_ids)


class _Run:
    """One execution: holds the client, the checkpoint and the running totals."""

    def __init__(
        self, ctx: RunContext, options: JiraSyncOptions, client: JiraClient, *, force_full: bool
    ) -> None:
        self.ctx = ctx
        self.options = options
        self.client = client
        self.source = JiraExtract.of_run(ctx, options, client)
        self.checkpoint = Checkpoint(ctx, SCOPE)
        self.force_full = force_full
        self.tenant = Tenant(ctx.client_id, ctx.integration.id)
        self.totals = _Totals()
        self.started = time.monotonic()
        self.phase = "discovering"
        self.total: int | None = None
        self.dev_field: str | None = None
        self.field_names: dict[str, str] = {}
        self.planned_windows = False  # this run split a new full sync into windows
        # A full run into a table holding none of the integration's items (its first sync)
        # has no stored development summaries or versions to compare with: it does not
        # look them up.
        self.nothing_stored = False
        # Independent calls sent at once: the metadata calls, the window plan's counts (the
        # account's rate gate bounds them with everything else).
        self.calls_pool = ThreadPoolExecutor(options.max_in_flight, thread_name_prefix="jira-calls")
        self._chains: PageChains | None = None  # once the metadata is known
        self.transport: httpx.BaseTransport | None = None  # the client's, when not HTTP
        self.http_options: dict[str, Any] = {}
        self.window_counters = HttpCounters()  # the requests of window processes
        self._processes: WindowProcesses | None = None  # while they run
        self.window_processes = 0  # how many the run started
        self.window_peak_rss_mb = 0.0
        self._early: Future[WindowProcesses] | None = None  # started before the plan
        # The run's plan (the window counts), made while the rest of the metadata arrives.
        self.plan_pool = ThreadPoolExecutor(1, thread_name_prefix="jira-plan")
        client.http.observer = self._on_http_event

    # -- the run -------------------------------------------------------------------------

    def execute(self) -> RunResult:
        try:
            return self._execute()
        finally:
            self.plan_pool.shutdown(wait=True, cancel_futures=True)
            if self._early is not None:  # started for a full run that did not need them
                early = self._early
                if early.exception() is None:
                    early.result().close()
            if self._chains is not None:
                self._chains.close()
            self.calls_pool.shutdown(wait=True, cancel_futures=True)

    def _execute(self) -> RunResult:
        state = self._read_state()
        if (self.force_full or state.watermark is None) and self._window_processes_apply():
            # A full run is coming: its window processes start while the metadata arrives.
            self._early = self.calls_pool.submit(self._new_processes)
        meta, planned = self._metadata(state)
        self.dev_field = meta.dev_field
        self.field_names = meta.field_names
        keys = meta.project_keys
        if not keys:
            raise JiraSyncError(
                "No Jira projects to sync: the account sees none, or none of the configured "
                f"projects ({', '.join(self.options.projects) or 'all'}) exist.",
                title="No projects",
            )
        run = planned.result() if planned else self._plan(state, keys, meta.time_zone)
        mode = run.mode
        first_sync = state.last_full_at is None
        seen = self._sync_issues(state, run, meta)
        if self.options.reconcile:
            self._reconcile(state, meta, seen)
        with self.ctx.database.engine.begin() as conn:
            if first_sync:
                self._propose_flow(conn)
            quality = load.quality_summary(conn, self.tenant)
        return self._result(state, mode, quality)

    def _propose_flow(self, conn: Connection) -> None:
        """After the integration's first complete sync, map its statuses to default steps.

        Only then: later syncs leave the mapping to the operator (the Flow screen lists new
        unmapped statuses), so a step or mapping they deleted is never brought back.
        """
        proposal = propose_default_mappings(conn, self.tenant.client_id)
        self.totals.flow_proposal = {
            "steps_created": len(proposal.steps_created),
            "mappings_created": len(proposal.mappings_created),
        }
        if proposal.steps_created or proposal.mappings_created:
            self.ctx.log.info(
                "proposed the default flow mapping: %d step(s), %d status mapping(s)",
                len(proposal.steps_created),
                len(proposal.mappings_created),
            )

    def _read_state(self) -> SyncState:
        return SyncState.from_json(self.checkpoint.read())

    # -- metadata ------------------------------------------------------------------------

    def _metadata(self, state: SyncState) -> tuple[Metadata, Future[RunState] | None]:
        """The site's metadata (fetched again when stale, and committed); when fetched, the
        run's plan too, started as soon as the projects and the time zone are known (its
        window counts need nothing else) and handed back unfinished: only the metadata is
        committed here, as before, so a failed plan still leaves it stored."""
        meta = state.metadata
        fresh = (
            meta is not None
            and meta.fetched_at is not None
            and not self.force_full
            and state.watermark is not None
            and self.ctx.clock() - meta.fetched_at
            < timedelta(minutes=self.options.metadata_refresh_minutes)
        )
        if fresh and meta is not None:
            return meta, None
        self._report("discovering", message="projects, statuses, fields and users")
        # Independent calls, sent at once (within the account's rate gate).
        pool = self.calls_pool
        asked_me, asked_projects = (
            pool.submit(self.source.myself),
            pool.submit(self.source.projects),
        )
        asked_statuses = pool.submit(self.source.statuses)
        asked_types = pool.submit(self.source.issue_types)
        asked_fields, asked_users = pool.submit(self.source.fields), pool.submit(self.source.users)
        me = asked_me.result()
        projects = asked_projects.result()
        wanted = set(self.options.projects)
        if wanted:
            missing = wanted - {p.key for p in projects}
            if missing:
                self.ctx.log.warning(
                    "configured Jira projects not found or not visible: %s",
                    ", ".join(sorted(missing)),
                )
            projects = [p for p in projects if p.key in wanted]
        keys = sorted(p.key for p in projects)
        time_zone = me.time_zone or "UTC"
        # No plan without projects: the run stops on that once the metadata is stored.
        planned = self.plan_pool.submit(self._plan, state, keys, time_zone) if keys else None
        statuses = asked_statuses.result()
        issue_types = asked_types.result()
        fields = asked_fields.result()
        users = asked_users.result()
        t = self.tenant
        user_rows = [r for r in (transform.user_row(t, u) for u in users) if r is not None]
        meta = Metadata(
            fetched_at=self.ctx.clock(),
            time_zone=time_zone,
            project_keys=keys,
            field_names=transform.custom_field_names(fields),
            dev_field=development_field_id(fields),
        )
        state.metadata = meta
        self.totals.metadata = commit_batch(
            self.checkpoint,
            state.to_json(),
            lambda conn: load.load_metadata(
                conn,
                t,
                projects=[transform.project_row(t, p) for p in projects],
                statuses=[transform.status_row(t, s) for s in statuses],
                issue_types=[transform.issue_type_row(t, i) for i in issue_types],
                fields=[transform.field_row(t, f) for f in fields],
                users=user_rows,
            ),
        ).loaded
        return meta, planned

    # -- issues --------------------------------------------------------------------------

    def _plan(self, state: SyncState, keys: list[str], time_zone: str) -> RunState:
        """Resume the interrupted run, or start a full or incremental one (of the projects
        ``keys``, dates in the site's ``time_zone``)."""
        resumable = state.run is not None and not self.force_full
        if resumable and state.run is not None and state.synced_projects == keys:
            self.ctx.log.info(
                "resuming the interrupted %s Jira sync after page %d",
                state.run.mode,
                state.run.pages,
            )
            return state.run
        full = self.force_full or state.watermark is None or state.synced_projects != keys
        if full and self.options.windows > 1:
            self._report("discovering", message="splitting the full sync into windows")
            plan = plan_windows(
                self.source,
                keys,
                self.options.window_issues,
                time_zone,
                map_each=self.calls_pool.map,  # the projects' counts at once
            )
            self.total = plan.total
            self.planned_windows = True
            return RunState(
                mode="full",
                jql=sync_jql(keys),
                started_at=self.ctx.clock(),
                windows=plan.clauses,
            )
        if full:
            return RunState(mode="full", jql=sync_jql(keys), started_at=self.ctx.clock())
        assert state.watermark is not None
        since = state.watermark - timedelta(minutes=self.options.overlap_minutes)
        jql = sync_jql(keys, since=since, tz=time_zone)
        return RunState(mode="incremental", jql=jql, started_at=self.ctx.clock())

    def _sync_issues(self, state: SyncState, run: RunState, meta: Metadata) -> set[str] | None:
        """Load the run's pages; the ids seen when that was every issue of the projects (a
        full run from its first page, not resumed), which reconciliation then needs not walk
        again."""
        full = run.mode == "full"
        seen: set[str] | None = set() if full and run.pages == 0 else None
        if full and run.pages == 0:
            # A new full run starts from nothing: forget a watermark of another project set.
            state.watermark = None
        state.run = run
        state.synced_projects = meta.project_keys
        if full:
            with self.ctx.database.engine.connect() as conn:
                self.nothing_stored = not load.any_stored(conn, self.tenant)
        if run.windows is not None:
            return self._sync_windows(state, run, run.windows, meta)
        chains = self._page_chains()
        self.total = self.source.approximate_count(run.jql)
        self._report("issues", message=f"{run.mode} sync")
        # Page n+1 (search, changelogs, dev-status) is fetched while page n is loaded.
        ahead = chains.pages(
            run.jql,
            run.page_token,
            state.watermark,
            lambda since: sync_jql(meta.project_keys, since=since, tz=meta.time_zone),
            skip_unchanged=not full,
        )
        # The pages ready when the writer asks are committed together (one transaction).
        with fetch_window_groups(
            [lambda: ahead], concurrency=1, depth=AHEAD_PAGES, name="jira-pages"
        ) as groups:
            for group in groups:
                stop_if_cancelled(self.ctx, STOPPED)  # pages fetched ahead are fetched again
                fetched = [f for _, f in group]
                for f in fetched:
                    run.jql = f.jql
                    run.page_token = f.next_page_token
                    run.pages += 1
                    state.watermark = later(state.watermark, f.newest)
                    if f.is_last:
                        state.run = None
                        if full:
                            state.last_full_at = self.ctx.clock()
                self._commit_pages([(self.checkpoint, state.to_json())], fetched)
                self.totals.pages += len(fetched)
                self._report("loading")
                if seen is not None:
                    for f in fetched:
                        seen.update(f.ids)
        return seen

    def _sync_windows(
        self, state: SyncState, run: RunState, clauses: list[str], meta: Metadata
    ) -> set[str] | None:
        """A full run as windows fetched at once (pipelines/jira/plan.py), each committed
        with its own checkpoint row; the watermark once all are done. The ids seen when
        the windows were planned by this run (then they are every issue of the projects)."""
        jqls = [window_jql(c) for c in clauses]
        scopes = [Checkpoint(self.ctx, window_scope(SCOPE, i)) for i in range(len(jqls))]
        if self.planned_windows:
            windows = [WindowState(jql) for jql in jqls]

            def save_plan(conn: Connection) -> None:
                for scope, window in zip(scopes, windows, strict=True):
                    scope.save(conn, window.to_json())

            commit_batch(self.checkpoint, state.to_json(), save_plan)
        else:
            windows = [
                WindowState.from_json(scope.read(), jql)
                for scope, jql in zip(scopes, jqls, strict=True)
            ]
            self.ctx.log.info(
                "resuming the interrupted full Jira sync: %d of %d windows done",
                sum(w.done for w in windows),
                len(windows),
            )
            self.total = self.source.approximate_count(run.jql)
        seen: set[str] | None = set() if self.planned_windows else None
        self._report("issues", message=f"full sync in {len(windows)} windows")

        def chain(index: int, window: WindowState) -> Iterator[tuple[WindowState, Fetched]]:
            if window.done:
                return
            spec = WindowSpec(
                clause=clauses[index],
                time_zone=meta.time_zone,
                query=window.query or window.jql,
                page_token=window.page_token,
                newest=window.newest,
            )
            progress = window
            for fetched in fetch(spec):
                progress = WindowState(
                    jql=window.jql,
                    query=fetched.jql,
                    page_token=fetched.next_page_token,
                    pages=progress.pages + 1,
                    done=fetched.is_last,
                    newest=later(progress.newest, fetched.newest),
                )
                yield progress, fetched

        def commit(group: list[tuple[Checkpoint, int, tuple[WindowState, Fetched]]]) -> None:
            stop_if_cancelled(self.ctx, STOPPED)  # pages fetched ahead are fetched again
            # The pages ready at once, in one transaction with each window's latest state.
            saves: dict[int, tuple[Checkpoint, dict[str, Any]]] = {}
            for checkpoint, index, (progress, _) in group:
                windows[index] = progress
                saves[index] = (checkpoint, progress.to_json())
            fetched = [f for _, _, (_, f) in group]
            self._commit_pages(list(saves.values()), fetched)
            self.totals.pages += len(group)
            self._report("loading")
            if seen is not None:
                for f in fetched:
                    seen.update(f.ids)

        chains = min(self.options.windows, sum(not w.done for w in windows))
        with self._window_fetcher(chains) as fetch:
            commit_window_groups(
                scopes, windows, chain, commit, concurrency=max(1, chains), name="jira-window"
            )
        # An issue updated during the run may have moved to a window already done: the next
        # incremental run looks again from the run's start at the latest.
        newest = _earlier(
            max((w.newest for w in windows if w.newest), default=None), run.started_at
        )
        state.watermark = newest
        state.run = None
        state.last_full_at = self.ctx.clock()
        commit_batch(self.checkpoint, state.to_json(), lambda conn: None)
        return seen

    def _commit_pages(
        self,
        saves: Sequence[tuple[Checkpoint, dict[str, Any]]],
        pages: Sequence[Fetched],
    ) -> None:
        """Pages in one transaction with the checkpoint states that cover them."""
        page = PageRows.merged([f.prepared for f in pages])
        rejected = [r for f in pages for r in f.rejected]
        self._commit_page(saves, page, rejected)

    def _commit_page(
        self,
        saves: Sequence[tuple[Checkpoint, dict[str, Any]]],
        page: PageRows,
        rejected: Sequence[Rejected | BadResponse],
    ) -> None:
        committed = commit_batches(
            saves,
            lambda conn: load.load_page(
                conn, self.tenant, page, compare_versions=not self.nothing_stored
            ),
            rejected,
        )
        counts = committed.loaded
        counts.quarantined = committed.quarantined
        if rejected:
            self.ctx.log.warning(
                "quarantined %d Jira payload(s) that did not validate: %s",
                len(rejected),
                rejected[0].error.splitlines()[0][:200],
            )
        self.totals.counts.add(counts)

    # -- reconciliation ------------------------------------------------------------------

    def _reconcile(self, state: SyncState, meta: Metadata, seen: set[str] | None) -> None:
        self._report("reconciling", message="comparing issue ids with the source")
        chains = self._page_chains()
        jql = f"{project_clause(meta.project_keys)} ORDER BY id ASC"
        ids: list[str] = sorted(seen) if seen is not None else []
        if seen is None:
            for page in self._id_pages(jql):
                ids.extend(ids_of(page))
        state.last_reconciled_at = self.ctx.clock()
        deactivated, missing = commit_batch(
            self.checkpoint, state.to_json(), lambda conn: load.reconcile(conn, self.tenant, ids)
        ).loaded
        self.totals.counts.deactivated += deactivated
        if missing:
            self.ctx.log.info("fetching %d Jira issue(s) the table lacks", len(missing))
        for start in range(0, len(missing), RECONCILE_FETCH_CHUNK):
            stop_if_cancelled(self.ctx, STOPPED)
            chunk = missing[start : start + RECONCILE_FETCH_CHUNK]
            id_list = ", ".join(chunk)
            jql = f"{project_clause(meta.project_keys)} AND id in ({id_list}) ORDER BY id ASC"
            token: str | None = None
            while True:
                try:
                    page = self.source.search(jql, token, extra_fields=chains.dev_fields())
                except RequestRejected as exc:
                    # JQL refuses ids deleted since the walk; the next run compares again.
                    self.ctx.log.warning("skipped refetching %d issue(s): %s", len(chunk), exc)
                    break
                prepared, rejected = chains.prepare(page.issues, skip_unchanged=False)
                self._commit_page(
                    [(self.checkpoint, state.to_json())],
                    prepared,
                    [*page.rejected, *rejected],
                )
                self.totals.reactivated += len(prepared.items)
                if page.is_last or page.next_page_token is None:
                    break
                token = page.next_page_token

    def _id_pages(self, jql: str) -> Iterator[SearchPage]:
        token: str | None = None
        while True:
            stop_if_cancelled(self.ctx, STOPPED)
            page = self.source.search(jql, token, ids_only=True)
            yield page
            if page.is_last or page.next_page_token is None:
                return
            token = page.next_page_token

    # -- page chains ---------------------------------------------------------------------

    def _setup(self) -> ChainSetup:
        return ChainSetup(
            options=self.options,
            tenant=self.tenant,
            field_names=self.field_names,
            dev_field=self.dev_field,
            nothing_stored=self.nothing_stored,
        )

    def _page_chains(self) -> PageChains:
        """The run's chains in this process (made once the metadata is known)."""
        if self._chains is None:
            self._chains = PageChains(
                self._setup(),
                self.source,
                _DatabaseLookup(self.ctx, self.tenant),
                cancelled=lambda: self.ctx.cancel.cancelled,
                log=self.ctx.log,
                report=lambda phase: self._report(phase),
                chains=self.options.windows,
            )
        return self._chains

    def _window_processes_apply(self) -> bool:
        """Windows may run in processes: the integration allows it, it has windows, and
        the client talks HTTP to a real server (a transport, a clock or a request budget
        given to it belong to this process: no window process could share them)."""
        http = self.http_options
        in_process = self.transport is not None or "clock" in http or "budget" in http
        return self.options.windows > 1 and self.options.window_processes and not in_process

    def _new_processes(self) -> WindowProcesses:
        """The run's window processes, forked (one per window at once)."""
        return WindowProcesses(
            self.options.windows,
            base_url=self.ctx.integration.base_url,
            token=run_token(self.ctx),
            http_options=self.http_options,
            gate=self.client.http.gate or RateGate(self.options.max_in_flight),
            cancel=self.ctx.cancel,
            lookup=_DatabaseLookup(self.ctx, self.tenant),
            keep=self.source.keep,
            log=self.ctx.log,
            observer=self._on_http_event,
        ).start()

    def _take_processes(self) -> WindowProcesses:
        early, self._early = self._early, None
        return early.result() if early is not None else self._new_processes()

    @contextmanager
    def _window_fetcher(self, chains: int) -> Iterator[Callable[[WindowSpec], Iterator[Fetched]]]:
        """Where the windows' chains run: each in a window process of its own when the
        integration allows it and the client talks HTTP to a real server (its transport,
        clock and request budget are this process's: no window process can share them),
        else in this process's threads."""
        if chains > 1 and self._window_processes_apply():
            with self._take_processes() as processes:
                processes.begin(self._setup())
                self._processes = processes
                self.window_processes = processes.count
                try:
                    yield processes.pages
                finally:
                    self._processes = None
                    self.window_counters = processes.counters()
                    self.window_peak_rss_mb = processes.peak_rss_mb()
                    self.source.quarantined += processes.quarantined
            return
        page_chains = self._page_chains()

        def pages(spec: WindowSpec) -> Iterator[Fetched]:
            return page_chains.pages(
                spec.query,
                spec.page_token,
                spec.newest,
                spec.restart,
                skip_unchanged=False,
            )

        yield pages

    # -- plumbing ------------------------------------------------------------------------

    def _on_http_event(self, event: HttpEvent) -> None:
        if isinstance(event, RateLimitWait):
            self._report(
                self.phase,
                message=f"rate limited by Jira: waiting {event.seconds:.0f} s",
                rate_limit_until=event.reset_at,
            )

    def _report(
        self, phase: str, *, message: str = "", rate_limit_until: datetime | None = None
    ) -> None:
        self.phase = phase
        done = self.totals.counts.issues
        elapsed = max(time.monotonic() - self.started, 1e-6)
        rate = f"{done / elapsed:.0f} issues/s"
        text = f"{message} · {rate}" if message else rate
        report(
            self.ctx,
            Progress(
                phase=phase,
                done=done,
                total=self.total,
                api_calls=self._counters().requests,
                message=text,
                rate_limit_until=rate_limit_until,
            ),
        )

    def _counters(self) -> HttpCounters:
        """The run's requests: this process's and its window processes'."""
        processes = self._processes
        window = processes.counters() if processes is not None else self.window_counters
        return self.client.counters() + window

    def _result(self, state: SyncState, mode: str, quality: dict[str, int]) -> RunResult:
        counters = self._counters()
        c = self.totals.counts
        c.quarantined += self.source.quarantined  # unreadable bodies, kept between pages
        self.source.quarantined = 0
        stats: dict[str, Any] = {
            "mode": mode,
            "pages": self.totals.pages,
            **c.as_dict(),
            "refetched": self.totals.reactivated,
            "metadata": self.totals.metadata,
            "seconds": round(time.monotonic() - self.started, 3),
            "bytes_received": counters.bytes_received,
            "rate_limit_seconds": round(counters.rate_limit_seconds, 1),
            "quality": quality,
            "flow_proposal": self.totals.flow_proposal,
            "window_processes": self.window_processes,
            "window_process_peak_rss_mb": round(self.window_peak_rss_mb, 1),
        }
        self._report("done", message=f"{mode} sync finished")
        return RunResult(
            records=c.inserted + c.updated + c.transitions + c.links + c.deactivated,
            api_calls=counters.requests,
            retries=counters.retries,
            rate_limit_waits=counters.rate_limit_waits,
            checkpoint=state.to_json(),
            stats=stats,
        )


__all__: Sequence[str] = ["JiraSync", "JiraSyncError"]
