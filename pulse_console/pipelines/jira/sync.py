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
   prepared in a pool while its chain searches on, and the writer commits every page ready
   when it asks in one transaction (with the checkpoint of each window they belong to).
3. **reconciling** — every issue id the JQL still matches (id-only pages of up to 5,000);
   stored items missing from it are marked ``active = false`` (deleted, moved to an unsynced
   project, no longer visible), and ids the table lacks or holds inactive are fetched again.

Rate limits surface as ``RateLimited`` (the engine parks the job), cancellation is honoured
between pages (and before every request by the HTTP stack), and a payload that does not
validate is quarantined with its raw JSON while the sync goes on.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar

import httpx
from sqlalchemy import Connection

from connectors.errors import RequestRejected
from connectors.http import HttpEvent, RateLimitWait
from connectors.jira import JiraClient, SearchPage, project_clause, sync_jql, window_jql
from connectors.jira.development import NO_DEVELOPMENT, development_field_id, parse_dev_summary
from connectors.jira.models import DevStatusDetail, Issue
from connectors.validation import Rejected
from pulse_console.pipelines.base import Progress, RunContext, RunResult
from pulse_console.pipelines.checkpoint import Checkpoint, commit_batch, commit_batches
from pulse_console.pipelines.collection import fewer_collections
from pulse_console.pipelines.jira import load, transform
from pulse_console.pipelines.jira.extract import STOPPED, JiraExtract, JiraSyncError, open_client
from pulse_console.pipelines.jira.load import IssuePage, PageCounts, PageRows
from pulse_console.pipelines.jira.options import JiraSyncOptions
from pulse_console.pipelines.jira.plan import plan_windows
from pulse_console.pipelines.jira.state import SCOPE, Metadata, RunState, SyncState, WindowState
from pulse_console.pipelines.jira.transform import Tenant
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

PREPARED_AHEAD = 4
"""Pages of one chain whose changelogs and dev-status are fetched while it searches on. A
page's preparation (a changelog call, then its dev-status calls) takes two to three search
round trips under a shared gate (measured at 150 ms latency, 4 windows: 0.68 s against a
0.33 s search); with 2 the chains waited on it for a quarter of a search per page."""


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
            return _Run(ctx, options, client, force_full=self.full).execute()


@dataclass
class _Totals:
    counts: PageCounts = field(default_factory=PageCounts)
    pages: int = 0
    reactivated: int = 0
    metadata: dict[str, int] = field(default_factory=dict)
    flow_proposal: dict[str, int] = field(default_factory=dict)


@dataclass
class _Fetched:
    """One search page, fetched with its changelogs and dev-status, ready to load."""

    jql: str
    page: SearchPage
    prepared: PageRows
    rejected: list[Rejected | BadResponse]


_Prepared = tuple[PageRows, list[Rejected | BadResponse]]


def _ids_of(page: SearchPage) -> list[str]:
    """Issue ids of a page, the rejected ones included (they exist, only unreadable)."""
    ids = [i.id for i in page.issues]
    ids.extend(r.raw["id"] for r in page.rejected if isinstance(r.raw, dict) and "id" in r.raw)
    return ids


def _newest_update(issues: Sequence[Issue]) -> datetime | None:
    return max((i.fields.updated for i in issues if i.fields.updated), default=None)


def _later(a: datetime | None, b: datetime | None) -> datetime | None:
    return max(a, b) if a is not None and b is not None else a or b


def _earlier(a: datetime | None, b: datetime | None) -> datetime | None:
    return min(a, b) if a is not None and b is not None else a or b


class _Run:
    """One execution: holds the client, the checkpoint and the running totals."""

    def __init__(
        self, ctx: RunContext, options: JiraSyncOptions, client: JiraClient, *, force_full: bool
    ) -> None:
        self.ctx = ctx
        self.options = options
        self.client = client
        self.source = JiraExtract(ctx, options, client)
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
        # Independent calls sent at once: the dev-status calls of the pages being prepared
        # (one per issue), the metadata calls, the window plan's counts; as many threads as
        # the account may have requests out (its rate gate bounds all windows together).
        self.dev_pool = ThreadPoolExecutor(options.max_in_flight, thread_name_prefix="jira-dev")
        # Pages being prepared at once: PREPARED_AHEAD per chain (its own pool, since a
        # page's preparation waits on dev-status calls in the dev pool).
        self.prepare_pool = ThreadPoolExecutor(
            PREPARED_AHEAD * options.windows, thread_name_prefix="jira-prepare"
        )
        # The run's plan (the window counts), made while the rest of the metadata arrives.
        self.plan_pool = ThreadPoolExecutor(1, thread_name_prefix="jira-plan")
        client.http.observer = self._on_http_event

    # -- the run -------------------------------------------------------------------------

    def execute(self) -> RunResult:
        try:
            return self._execute()
        finally:
            self.plan_pool.shutdown(wait=True, cancel_futures=True)
            self.prepare_pool.shutdown(wait=True, cancel_futures=True)
            self.dev_pool.shutdown(wait=True, cancel_futures=True)

    def _execute(self) -> RunResult:
        state = self._read_state()
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
        pool = self.dev_pool
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
                map_each=self.dev_pool.map,  # the projects' counts at once
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
        self.total = self.source.approximate_count(run.jql)
        self._report("issues", message=f"{run.mode} sync")
        # Page n+1 (search, changelogs, dev-status) is fetched while page n is loaded.
        ahead = self._pages(
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
                    page = f.page
                    run.jql = f.jql
                    run.page_token = None if page.is_last else page.next_page_token
                    run.pages += 1
                    state.watermark = _later(state.watermark, _newest_update(page.issues))
                    if page.is_last:
                        state.run = None
                        if full:
                            state.last_full_at = self.ctx.clock()
                self._commit_pages([(self.checkpoint, state.to_json())], fetched)
                self.totals.pages += len(fetched)
                self._report("loading")
                if seen is not None:
                    for f in fetched:
                        seen.update(_ids_of(f.page))
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

        def chain(index: int, window: WindowState) -> Iterator[tuple[WindowState, _Fetched]]:
            if window.done:
                return
            clause = clauses[index]
            pages = self._pages(
                window.query or window.jql,
                window.page_token,
                window.newest,
                lambda since: window_jql(clause, since, meta.time_zone),
                skip_unchanged=False,
            )
            progress = window
            for fetched in pages:
                page = fetched.page
                progress = WindowState(
                    jql=window.jql,
                    query=fetched.jql,
                    page_token=None if page.is_last else page.next_page_token,
                    pages=progress.pages + 1,
                    done=page.is_last,
                    newest=_later(progress.newest, _newest_update(page.issues)),
                )
                yield progress, fetched

        def commit(group: list[tuple[Checkpoint, int, tuple[WindowState, _Fetched]]]) -> None:
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
                    seen.update(_ids_of(f.page))

        commit_window_groups(
            scopes, windows, chain, commit, concurrency=self.options.windows, name="jira-window"
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

    def _pages(
        self,
        jql: str,
        token: str | None,
        watermark: datetime | None,
        restart: Callable[[datetime | None], str],
        *,
        skip_unchanged: bool,
    ) -> Iterator[_Fetched]:
        """A chain's pages with what loading them needs; runs in a fetch thread, so it reads
        only its arguments (the consumer owns the run and the state). ``restart(since)`` is
        the query to continue with from ``since`` when Jira refuses a saved page token.

        Only the searches are a chain (page n+1 needs page n's token): a page's changelogs
        and dev-status are fetched in the prepare pool while the chain searches on, up to
        ``PREPARED_AHEAD`` pages; pages are still handed over in their order, each as soon as
        it and those before it are ready (the chain waits only when that many are pending)."""
        restarted = False
        pending: deque[tuple[str, SearchPage, Future[_Prepared]]] = deque()
        try:
            while True:
                stop_if_cancelled(self.ctx, STOPPED)
                try:
                    page = self.source.search(jql, token, extra_fields=self._dev_fields())
                except RequestRejected as exc:
                    if token is None or exc.status != 400 or restarted:
                        raise
                    # A saved page token can expire; the watermark is still exact (pages are
                    # fetched and committed oldest first), so continue from it afresh.
                    restarted = True
                    self.ctx.log.warning(
                        "Jira refused the saved page token (%s); continuing from the watermark",
                        exc.message,
                    )
                    since = watermark
                    if since is not None:
                        since -= timedelta(minutes=self.options.overlap_minutes)
                    jql = restart(since)
                    token = None
                    continue
                prepared = self.prepare_pool.submit(
                    self._prepare, page.issues, skip_unchanged=skip_unchanged
                )
                pending.append((jql, page, prepared))
                watermark = _later(watermark, _newest_update(page.issues))
                while pending and (
                    pending[0][2].done() or len(pending) > PREPARED_AHEAD or page.is_last
                ):
                    done_jql, done_page, ready = pending.popleft()
                    rows, rejected = ready.result()
                    yield _Fetched(done_jql, done_page, rows, [*done_page.rejected, *rejected])
                if page.is_last:
                    return
                token = page.next_page_token
        finally:
            for _, _, left in pending:  # the consumer left early, or a request failed
                left.cancel()
            wait([f for _, _, f in pending])

    def _prepare(self, issues: list[Issue], *, skip_unchanged: bool) -> _Prepared:
        """Changelogs and dev-status for the issues that need loading."""
        if skip_unchanged and issues:
            with self.ctx.database.engine.connect() as conn:
                stored = load.stored_versions(conn, self.tenant, [i.id for i in issues])
            changed = [
                i
                for i in issues
                if stored.get(i.id) != (i.fields.updated, i.key, True) or i.fields.updated is None
            ]
        else:
            changed = list(issues)
        skipped = len(issues) - len(changed)
        if not changed:
            return PageRows(skipped=skipped), []
        self._report("changelogs")
        batch = self.source.changelogs(changed)
        rejected: list[Rejected | BadResponse] = list(batch.rejected)
        dev: dict[str, DevStatusDetail] = {}
        summaries: dict[str, str | None] = {}
        if self.options.dev_status:
            self._report("dev-status")
            summaries, wanted = self._dev_status_plan(changed)
            # One call per issue, several at once (within the account's rate gate).
            details = self.dev_pool.map(self.source.dev_status, wanted)
            for issue, detail in zip(wanted, details, strict=True):
                if detail is None:
                    summaries[issue.id] = None  # links kept as they were: ask again next time
                else:
                    dev[issue.id] = detail
        page = IssuePage(
            issues=changed,
            histories=batch.histories,
            dev_status=dev,
            dev_summaries=summaries,
            skipped=skipped,
        )
        # Rows are built here, in the page's fetch thread, so the one writer only writes.
        return load.page_rows(self.tenant, page, self.field_names), rejected

    def _dev_fields(self) -> tuple[str, ...]:
        """The Development field, asked for with every issue page when dev-status is on."""
        return (self.dev_field,) if self.dev_field and self.options.dev_status else ()

    def _dev_status_plan(self, issues: list[Issue]) -> tuple[dict[str, str | None], list[Issue]]:
        """The development summary to store per issue, and the issues whose links to fetch.

        An issue's links are fetched only when its Development field shows pull requests (or
        showed some before) and differs from the summary stored with its links; without a
        readable field (Data Center, no dev tools connected) every issue is asked, as before.
        """
        dev_field = self.dev_field
        stored: dict[str, str | None] = {}
        if not self.nothing_stored:
            with self.ctx.database.engine.connect() as conn:
                stored = load.stored_dev_summaries(conn, self.tenant, [i.id for i in issues])
        summaries: dict[str, str | None] = {}
        wanted: list[Issue] = []
        for issue in issues:
            before = stored.get(issue.id)
            value = issue.fields.custom_fields().get(dev_field) if dev_field else None
            now = parse_dev_summary(value) if dev_field else None
            if now is None:
                summaries[issue.id] = None
                wanted.append(issue)
                continue
            summaries[issue.id] = now.fingerprint
            if now.fingerprint == before:
                continue
            known = issue.id not in stored or before == NO_DEVELOPMENT.fingerprint
            if now.has_pull_requests or not known:
                wanted.append(issue)
        return summaries, wanted

    def _commit_pages(
        self,
        saves: Sequence[tuple[Checkpoint, dict[str, Any]]],
        pages: Sequence[_Fetched],
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
        jql = f"{project_clause(meta.project_keys)} ORDER BY id ASC"
        ids: list[str] = sorted(seen) if seen is not None else []
        if seen is None:
            for page in self._id_pages(jql):
                ids.extend(_ids_of(page))
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
                    page = self.source.search(jql, token, extra_fields=self._dev_fields())
                except RequestRejected as exc:
                    # JQL refuses ids deleted since the walk; the next run compares again.
                    self.ctx.log.warning("skipped refetching %d issue(s): %s", len(chunk), exc)
                    break
                prepared, rejected = self._prepare(page.issues, skip_unchanged=False)
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
                api_calls=self.client.counters().requests,
                message=text,
                rate_limit_until=rate_limit_until,
            ),
        )

    def _result(self, state: SyncState, mode: str, quality: dict[str, int]) -> RunResult:
        counters = self.client.counters()
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
