"""The Aha! sync job: complete, incremental, crash-safe extraction of Aha! into PostgreSQL.

One run:

1. **products** — every product the key sees (or the configured ones) → ``projects``.
2. **lists** — per product, releases, goals, initiatives, epics, features (with their
   requirements) and ideas, 200 records a call with every stored field named in
   ``fields=`` (never one call per record). The first run (or ``--full``, or a changed
   product set) reads everything; later runs ask for ``updated_since`` the last run's
   newest ``updated_at`` minus an overlap. Products are windows (pipelines/windows.py):
   ``windows`` of them are read at once, one writer commits each page with its product's
   checkpoint row (list and page), so a crash at any instant resumes every product at its
   first uncommitted page.
3. **reconciling** — every id each list still holds (``fields=id``); stored records missing
   from it become inactive (deleted in Aha!, or moved out of the synced products).

Requests of every window are paced together under Aha!'s 20 a second and 300 a minute by the
account's one rate gate (``connectors.aha.aha_gate``, pacing at ``AHA_PACE``), so a sync does
not meet a 429; one that comes anyway pauses every window until the time Aha! named.
Progress carries the totals the lists report and the pacing state.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar

import httpx
from sqlalchemy import Connection

from connectors.aha import AhaClient, AhaPage
from connectors.aha.models import Epic, Feature, Goal, Idea, Product, Release, WorkflowStatus
from connectors.http import HttpCounters, HttpEvent, RateLimitWait
from pulse_console.pipelines.aha import load, transform
from pulse_console.pipelines.aha.extract import (
    ORDER,
    AhaExtract,
    AhaSyncError,
    Step,
    open_client,
    plan,
    select_products,
)
from pulse_console.pipelines.aha.load import Counts
from pulse_console.pipelines.aha.options import AhaSyncOptions
from pulse_console.pipelines.aha.state import SCOPE, RunState, SyncState, WindowState
from pulse_console.pipelines.base import Progress, RunContext, RunResult
from pulse_console.pipelines.checkpoint import Checkpoint, commit_batch
from pulse_console.pipelines.collection import fewer_collections
from pulse_console.pipelines.jira.transform import Row, Tenant
from pulse_console.pipelines.progress import report
from pulse_console.pipelines.windows import commit_windows, window_scope
from storage.models import Goal as GoalRow
from storage.models import Release as ReleaseRow
from storage.models import WorkItem

__all__ = ["AhaSync", "AhaSyncError"]

_WORK_TYPES = {"epics": "Epic", "features": "Feature", "ideas": "Idea"}
_PACING = "client request budget"


class AhaSync:
    """The ``aha_sync`` pipeline (see the module docstring).

    ``full`` forces a full sync; ``transport`` routes HTTP through a given httpx transport
    (the sandbox in tests and benchmarks); ``http_options`` passes retry/rate-limit/budget
    policies, a clock or a timeout to the Aha! client.
    """

    job_name: ClassVar[str] = "aha_sync"

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
        options = AhaSyncOptions.from_integration(ctx.integration)
        client = open_client(ctx, transport=self.transport, http_options=self.http_options)
        with fewer_collections(), client:
            return _Run(ctx, options, client, force_full=self.full).execute()


class _Run:
    """One execution: the client, the checkpoint and the running totals."""

    def __init__(
        self, ctx: RunContext, options: AhaSyncOptions, client: AhaClient, *, force_full: bool
    ) -> None:
        self.ctx = ctx
        self.options = options
        self.client = client
        self.extract = AhaExtract(ctx, options, client)
        self.checkpoint = Checkpoint(ctx, SCOPE)
        self.force_full = force_full
        self.tenant = Tenant(ctx.client_id, ctx.integration.id)
        self.counts = Counts()
        self.pages = 0
        self.total = 0
        self.started = time.monotonic()
        self.clock_started = client.http.clock.monotonic()  # the pacing clock
        gate = client.http.gate
        self.gate_waited = gate.waited if gate is not None else 0.0  # the account's so far
        self.phase = "products"
        client.http.observer = self._on_http_event

    # -- the run -------------------------------------------------------------------------

    def execute(self) -> RunResult:
        state = self._read_state()
        products = self._products(state)
        run, fresh = self._plan(state, products)
        state.run = run
        scopes = [Checkpoint(self.ctx, window_scope(SCOPE, i)) for i in range(len(run.products))]
        windows = self._windows(state, run, scopes, fresh=fresh)
        self._report("lists", message=f"{run.mode} sync of {len(run.products)} product(s)")
        commit_windows(
            scopes,
            windows,
            lambda index, window: self._chain(run, index, window),
            lambda checkpoint, index, fetched: self._commit(checkpoint, windows, index, fetched),
            concurrency=self.options.windows,
            name="aha-window",
        )
        steps = plan([_product(p) for p in run.products])
        prefixes = {p[0]: p[1] for p in run.products}
        self._finish(state, run, windows, steps, prefixes)
        return self._result(state, run.mode)

    def _read_state(self) -> SyncState:
        return SyncState.from_json(self.checkpoint.read())

    def _products(self, state: SyncState) -> list[Product]:
        self._report("products", message="listing products")
        chosen = select_products(self.extract.products(), self.options.products)
        if not chosen:
            raise AhaSyncError(
                "No Aha! products to sync: the key sees none, or none of the configured "
                f"products ({', '.join(self.options.products) or 'all'}) exist.",
                title="No products",
            )
        if self.options.products and len(chosen) < len(self.options.products):
            self.ctx.log.warning("some configured Aha! products are not visible to the key")
        rows = [transform.project_row(self.tenant, p) for p in chosen]
        # Through commit_batch (the state unchanged) so the run's fence guards it too.
        commit_batch(
            self.checkpoint,
            state.to_json(),
            lambda conn: load.load_products(conn, self.tenant, rows),
        )
        return chosen

    def _plan(self, state: SyncState, products: list[Product]) -> tuple[RunState, bool]:
        """Resume the interrupted run, or start a full or incremental one (→ True)."""
        pairs = [[p.id, p.reference_prefix] for p in products]
        ids = sorted(p[0] for p in pairs)
        run = state.run
        if run is not None and not self.force_full and sorted(p[0] for p in run.products) == ids:
            self.ctx.log.info("resuming the interrupted %s Aha! sync", run.mode)
            return run, False
        full = self.force_full or state.watermark is None or sorted(state.products) != ids
        if full:
            return RunState(mode="full", since=None, products=pairs), True
        assert state.watermark is not None
        since = state.watermark - timedelta(minutes=self.options.overlap_minutes)
        run = RunState(mode="incremental", since=since, products=pairs, newest=state.watermark)
        return run, True

    def _windows(
        self, state: SyncState, run: RunState, scopes: list[Checkpoint], *, fresh: bool
    ) -> list[WindowState]:
        """Each product's window: new ones (saved with the run in one transaction), those of
        a run checkpointed before windows (from its step and page), or the committed ones."""
        if not fresh and run.windowed:
            windows = [WindowState.from_json(scope.read()) for scope in scopes]
            self.ctx.log.info(
                "resuming the interrupted Aha! sync: %d of %d products done",
                sum(w.done for w in windows),
                len(windows),
            )
            return windows
        windows = [WindowState() for _ in run.products] if fresh else _from_steps(run)
        run.windowed = True

        def save_windows(conn: Connection) -> None:
            for scope, window in zip(scopes, windows, strict=True):
                scope.save(conn, window.to_json())

        commit_batch(self.checkpoint, state.to_json(), save_windows)
        return windows

    # -- one list ------------------------------------------------------------------------

    def _chain(self, run: RunState, index: int, window: WindowState) -> Iterator[_Fetched]:
        """One product's lists, page after page, from where its window stands (runs in a
        window thread; writes nothing)."""
        product_id, prefix = run.products[index]
        progress = window
        first = True  # the first page of a list this run reads: it carries the list's total
        while not progress.done:
            step = Step(product_id, ORDER[progress.step].name)
            page = self.extract.page(step, progress.page, run.since)
            newest = [getattr(i, "updated_at", None) for i in page.items]
            newest += [
                r.updated_at for f in page.items if isinstance(f, Feature) for r in f.requirements
            ]
            if page.is_last:
                after = (progress.step + 1, 1)
            else:
                after = (progress.step, page.pagination.current_page + 1)
            progress = WindowState(
                step=after[0],
                page=after[1],
                newest=transform.newest([*newest, progress.newest]),
                done=after[0] >= len(ORDER),
            )
            yield _Fetched(progress, step, prefix, page, first)
            first = page.is_last

    def _commit(
        self, checkpoint: Checkpoint, windows: list[WindowState], index: int, fetched: _Fetched
    ) -> None:
        """Commit one page with its window's row (in the writer's thread)."""
        step, page = fetched.step, fetched.page
        if fetched.first:
            self.total += page.pagination.total_records
        windows[index] = fetched.progress
        committed = commit_batch(
            checkpoint,
            fetched.progress.to_json(),
            lambda conn: self._load(conn, step, fetched.prefix, page.items),
            page.rejected,
        )
        counts = committed.loaded
        counts.quarantined = committed.quarantined
        if page.rejected:
            self.ctx.log.warning(
                "quarantined %d Aha! record(s) that did not validate: %s",
                len(page.rejected),
                page.rejected[0].error.splitlines()[0][:200],
            )
        self.counts.add(counts)
        self.pages += 1
        self._report("lists", message=f"{step.resource} of {fetched.prefix}")

    def _load(self, conn: Connection, step: Step, prefix: str, items: list[Any]) -> Counts:
        t = self.tenant
        if step.resource == "releases":
            rows = [transform.release_row(t, r, prefix) for r in items if isinstance(r, Release)]
            load.load_plans(conn, ReleaseRow, rows)
            return Counts(records=len(rows))
        if step.resource in ("goals", "initiatives"):
            rows = [transform.goal_row(t, g, prefix) for g in items if isinstance(g, Goal)]
            load.load_plans(conn, GoalRow, rows)
            return Counts(records=len(rows))
        return self._load_work(conn, items, prefix)

    def _load_work(self, conn: Connection, records: list[Any], prefix: str) -> Counts:
        t = self.tenant
        items: list[transform.ItemRows] = []
        users: list[Row] = []
        statuses: list[Row] = []
        requirements: dict[str, list[str]] = {}
        ids = [r.id for r in records] + [
            q.id for f in records if isinstance(f, Feature) for q in f.requirements
        ]
        stored = load.stored(conn, t, ids)
        for record in records:
            if not isinstance(record, Feature | Epic | Idea):
                continue
            rows = transform.item_rows(t, record, prefix, stored=stored.get(record.id))
            items.append(rows)
            subjects: list[Any] = [record]
            for req in rows.requirements:
                parent = record if isinstance(record, Feature) else None
                items.append(transform.item_rows(t, req, prefix, parent, stored.get(req.id)))
                subjects.append(req)
            if isinstance(record, Feature):
                requirements[record.id] = [r.id for r in record.requirements]
            for subject in subjects:
                users.extend(transform.user_row(t, u) for u in transform.people_of(subject))
                status: WorkflowStatus | None = subject.workflow_status
                if status is not None:
                    statuses.append(transform.status_row(t, status))
        load.load_statuses(conn, statuses)
        counts = load.load_items(conn, t, items, users)
        counts.records = len(records)
        counts.requirements = len(items) - len(records)
        counts.deactivated += load.deactivate_requirements(conn, t, requirements)
        return counts

    # -- the end -------------------------------------------------------------------------

    def _finish(
        self,
        state: SyncState,
        run: RunState,
        windows: list[WindowState],
        steps: list[Step],
        prefixes: dict[str, str],
    ) -> None:
        found: list[tuple[Step, list[str]]] = []
        if self.options.reconcile:
            self._report("reconciling", message="comparing record ids with Aha!")
            workers = min(self.options.windows, len(steps))
            with ThreadPoolExecutor(workers, thread_name_prefix="aha-ids") as pool:
                found = list(zip(steps, pool.map(self.extract.ids, steps), strict=True))
        newest = [run.newest, state.watermark, *(w.newest for w in windows)]
        state.watermark = transform.newest(newest)
        state.products = sorted(p[0] for p in run.products)
        if run.mode == "full":
            state.last_full_at = self.ctx.clock()
        state.run = None
        committed = commit_batch(
            self.checkpoint, state.to_json(), lambda conn: self._reconcile(conn, found, prefixes)
        )
        self.counts.deactivated += committed.loaded

    def _reconcile(
        self, conn: Connection, found: list[tuple[Step, list[str]]], prefixes: dict[str, str]
    ) -> int:
        total = 0
        for step, ids in found:
            prefix = prefixes[step.product_id]
            if step.resource == "releases":
                total += load.reconcile(conn, self.tenant, ReleaseRow, prefix, ids)
            elif step.resource in ("goals", "initiatives"):
                kind = "goal" if step.resource == "goals" else "initiative"
                total += load.reconcile(conn, self.tenant, GoalRow, prefix, ids, goal_kind=kind)
            else:
                work_type = _WORK_TYPES[step.resource]
                total += load.reconcile(
                    conn, self.tenant, WorkItem, prefix, ids, work_type=work_type
                )
        return total

    # -- plumbing ------------------------------------------------------------------------

    def _on_http_event(self, event: HttpEvent) -> None:
        if not isinstance(event, RateLimitWait):
            return
        if event.reason == _PACING:
            return  # our own pace, not a refusal: the pacing state goes out with each page
        self._report(
            self.phase,
            message=f"rate limited by Aha!: waiting {event.seconds:.0f} s",
            rate_limit_until=event.reset_at,
        )

    def _report(
        self, phase: str, *, message: str = "", rate_limit_until: datetime | None = None
    ) -> None:
        self.phase = phase
        done = self.counts.records
        elapsed = max(self.client.http.clock.monotonic() - self.clock_started, 1e-6)
        counters = self.client.counters()
        limit = self.client.http.last_rate_limit
        pace = (
            f"paced {counters.requests / elapsed * 60:.0f}/min of 300"
            f" ({self._paced_seconds(counters):.0f} s waited)"
        )
        rate = done / max(time.monotonic() - self.started, 1e-6)
        text = " · ".join(x for x in (message, f"{rate:.0f} records/s", pace) if x)
        report(
            self.ctx,
            Progress(
                phase=phase,
                done=done,
                total=self.total or None,
                api_calls=counters.requests,
                message=text,
                rate_limit_until=rate_limit_until,
                budget_remaining=limit.remaining if limit else None,
                budget_limit=limit.limit if limit else None,
                budget_reset_at=limit.reset_at if limit else None,
            ),
        )

    def _paced_seconds(self, counters: HttpCounters) -> float:
        """Seconds this run waited on the pace and on rate limits: the client's own waits
        plus the account gate's (summed over every window waiting at once)."""
        gate = self.client.http.gate
        shared = gate.waited - self.gate_waited if gate is not None else 0.0
        return counters.rate_limit_seconds + shared

    def _result(self, state: SyncState, mode: str) -> RunResult:
        counters = self.client.counters()
        c = self.counts
        stats: dict[str, Any] = {
            "mode": mode,
            "pages": self.pages,
            **c.as_dict(),
            "quarantined": c.quarantined + self.extract.quarantined,  # bad items + bad bodies
            "seconds": round(time.monotonic() - self.started, 3),
            "bytes_received": counters.bytes_received,
            "pacing_seconds": round(self._paced_seconds(counters), 1),
            "responses_429": counters.by_status.get(429, 0),
        }
        limit = self.client.http.last_rate_limit
        if limit is not None and limit.remaining is not None:
            # The minute window as the last answer left it: the Health screen's API budget.
            stats["points_remaining"] = limit.remaining
            stats["points_limit"] = limit.limit
            stats["points_reset_at"] = _text(limit.reset_at)
        self._report("done", message=f"{mode} sync finished")
        return RunResult(
            records=c.records + c.requirements,
            api_calls=counters.requests,
            retries=counters.retries,
            rate_limit_waits=counters.rate_limit_waits,
            checkpoint=state.to_json(),
            stats=stats,
        )


def _text(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


@dataclass(frozen=True)
class _Fetched:
    """One page a window thread fetched, with where its window stands once it is committed."""

    progress: WindowState
    step: Step
    prefix: str
    page: AhaPage[Any]
    first: bool


def _from_steps(run: RunState) -> list[WindowState]:
    """The windows of a run checkpointed as one chain (``step``/``page`` of the whole plan,
    each product's lists in ``ORDER``)."""
    per = len(ORDER)
    current, step = divmod(run.step, per)
    return [
        WindowState(done=True)
        if i < current
        else WindowState(step=step, page=run.page)
        if i == current
        else WindowState()
        for i in range(len(run.products))
    ]


def _product(pair: list[str]) -> Product:
    return Product(id=pair[0], reference_prefix=pair[1], name=pair[1])
