"""A Jira page chain: search pages, each prepared (changelogs, dev-status, rows) while the
chain searches on, handed over in order as `Fetched` pages ready to commit.

The same chain runs in a fetch thread of the sync's process or in a window process
(pipelines/jira/window_process.py): it holds no run state and touches no database itself;
what it needs from the store (the versions and development summaries already stored) comes
through a `StoredLookup`, and its reports through ``report``.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from connectors.errors import Cancelled, RequestRejected
from connectors.jira import SearchPage
from connectors.jira.development import NO_DEVELOPMENT, parse_dev_summary
from connectors.jira.models import DevStatusDetail, Issue
from connectors.validation import Rejected
from pulse_console.pipelines.jira.extract import STOPPED, JiraExtract
from pulse_console.pipelines.jira.load import IssuePage, PageRows, page_rows
from pulse_console.pipelines.jira.options import JiraSyncOptions
from pulse_console.pipelines.jira.transform import Tenant
from pulse_console.pipelines.quarantine import BadResponse

PREPARED_AHEAD = 4
"""Pages of one chain whose changelogs and dev-status are fetched while it searches on. A
page's preparation (a changelog call, then its dev-status calls) takes two to three search
round trips under a shared gate (measured at 150 ms latency, 4 windows: 0.68 s against a
0.33 s search); with 2 the chains waited on it for a quarter of a search per page."""

Version = tuple[datetime | None, str | None, bool]
"""A stored issue's ``(updated, key, active)``."""


class StoredLookup(Protocol):
    """What a chain reads from the store (the sync's database, or its process's proxy)."""

    def versions(self, issue_ids: list[str]) -> dict[str, Version]: ...

    def dev_summaries(self, issue_ids: list[str]) -> dict[str, str | None]: ...


@dataclass(frozen=True)
class ChainSetup:
    """What every chain of a run shares (sent to window processes as is)."""

    options: JiraSyncOptions
    tenant: Tenant
    field_names: dict[str, str]
    dev_field: str | None
    nothing_stored: bool
    """A full run into a table holding none of the integration's items: no stored
    development summaries to compare with, so none are looked up."""


@dataclass
class Fetched:
    """One search page with what loading it needs (small: no models, only rows)."""

    jql: str
    next_page_token: str | None
    is_last: bool
    newest: datetime | None
    """The newest ``updated`` among the page's issues."""
    ids: list[str]
    """The page's issue ids, the rejected ones included (they exist, only unreadable)."""
    prepared: PageRows
    rejected: list[Rejected | BadResponse] = field(default_factory=list)


Prepared = tuple[PageRows, list[Rejected | BadResponse]]


def ids_of(page: SearchPage) -> list[str]:
    """Issue ids of a page, the rejected ones included (they exist, only unreadable)."""
    ids = [i.id for i in page.issues]
    ids.extend(r.raw["id"] for r in page.rejected if isinstance(r.raw, dict) and "id" in r.raw)
    return ids


def newest_update(issues: Sequence[Issue]) -> datetime | None:
    return max((i.fields.updated for i in issues if i.fields.updated), default=None)


def later(a: datetime | None, b: datetime | None) -> datetime | None:
    return max(a, b) if a is not None and b is not None else a or b


class PageChains:
    """Chains of one run (any number at once, each in its caller's thread), with the pools
    their pages are prepared in; `close` when done."""

    def __init__(
        self,
        setup: ChainSetup,
        source: JiraExtract,
        stored: StoredLookup,
        *,
        cancelled: Callable[[], bool],
        log: logging.Logger | logging.LoggerAdapter[logging.Logger],
        report: Callable[[str], None] = lambda phase: None,
        chains: int = 1,
    ) -> None:
        self.setup = setup
        self.options = setup.options
        self.source = source
        self.stored = stored
        self.cancelled = cancelled
        self.log = log
        self.report = report
        # Independent calls sent at once: the dev-status calls of the pages being prepared
        # (one per issue), as many threads as the account may have requests out (its rate
        # gate bounds all chains together).
        self.dev_pool = ThreadPoolExecutor(
            self.options.max_in_flight, thread_name_prefix="jira-dev"
        )
        # Pages being prepared at once: PREPARED_AHEAD per chain (its own pool, since a
        # page's preparation waits on dev-status calls in the dev pool).
        self.prepare_pool = ThreadPoolExecutor(
            PREPARED_AHEAD * max(1, chains), thread_name_prefix="jira-prepare"
        )

    def close(self) -> None:
        self.prepare_pool.shutdown(wait=True, cancel_futures=True)
        self.dev_pool.shutdown(wait=True, cancel_futures=True)

    def stop_if_cancelled(self) -> None:
        if self.cancelled():
            raise Cancelled(STOPPED)

    def dev_fields(self) -> tuple[str, ...]:
        """The Development field, asked for with every issue page when dev-status is on."""
        dev_field = self.setup.dev_field
        return (dev_field,) if dev_field and self.options.dev_status else ()

    def pages(
        self,
        jql: str,
        token: str | None,
        watermark: datetime | None,
        restart: Callable[[datetime | None], str],
        *,
        skip_unchanged: bool,
    ) -> Iterator[Fetched]:
        """A chain's pages with what loading them needs; reads only its arguments (the
        consumer owns the run and its state). ``restart(since)`` is the query to continue
        with from ``since`` when Jira refuses a saved page token.

        Only the searches are a chain (page n+1 needs page n's token): a page's changelogs
        and dev-status are fetched in the prepare pool while the chain searches on, up to
        ``PREPARED_AHEAD`` pages; pages are still handed over in their order, each as soon as
        it and those before it are ready (the chain waits only when that many are pending)."""
        restarted = False
        pending: deque[tuple[str, SearchPage, Future[Prepared]]] = deque()
        try:
            while True:
                self.stop_if_cancelled()
                try:
                    page = self.source.search(jql, token, extra_fields=self.dev_fields())
                except RequestRejected as exc:
                    if token is None or exc.status != 400 or restarted:
                        raise
                    # A saved page token can expire; the watermark is still exact (pages are
                    # fetched and committed oldest first), so continue from it afresh.
                    restarted = True
                    self.log.warning(
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
                    self.prepare, page.issues, skip_unchanged=skip_unchanged
                )
                pending.append((jql, page, prepared))
                watermark = later(watermark, newest_update(page.issues))
                while pending and (
                    pending[0][2].done() or len(pending) > PREPARED_AHEAD or page.is_last
                ):
                    done_jql, done, ready = pending.popleft()
                    rows, rejected = ready.result()
                    yield Fetched(
                        jql=done_jql,
                        next_page_token=None if done.is_last else done.next_page_token,
                        is_last=done.is_last,
                        newest=newest_update(done.issues),
                        ids=ids_of(done),
                        prepared=rows,
                        rejected=[*done.rejected, *rejected],
                    )
                if page.is_last:
                    return
                token = page.next_page_token
        finally:
            for _, _, left in pending:  # the consumer left early, or a request failed
                left.cancel()
            wait([f for _, _, f in pending])

    def prepare(self, issues: list[Issue], *, skip_unchanged: bool) -> Prepared:
        """Changelogs and dev-status for the issues that need loading, and their rows."""
        if skip_unchanged and issues:
            stored = self.stored.versions([i.id for i in issues])
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
        self.report("changelogs")
        # The changelogs (one bulk call when some are truncated) and the dev-status calls
        # need only the page: sent at once, a page is ready a round trip sooner.
        histories = self.dev_pool.submit(self.source.changelogs, changed)
        dev: dict[str, DevStatusDetail] = {}
        summaries: dict[str, str | None] = {}
        try:
            if self.options.dev_status:
                self.report("dev-status")
                summaries, wanted = self.dev_status_plan(changed)
                # One call per issue, several at once (within the account's rate gate).
                details = self.dev_pool.map(self.source.dev_status, wanted)
                for issue, detail in zip(wanted, details, strict=True):
                    if detail is None:
                        summaries[issue.id] = None  # links kept as they were: ask again
                    else:
                        dev[issue.id] = detail
        finally:
            wait([histories])  # its error, if any, is raised below (after the dev-status one)
        batch = histories.result()
        rejected: list[Rejected | BadResponse] = list(batch.rejected)
        page = IssuePage(
            issues=changed,
            histories=batch.histories,
            dev_status=dev,
            dev_summaries=summaries,
            skipped=skipped,
        )
        # Rows are built here, in the page's fetch thread, so the one writer only writes.
        return page_rows(self.setup.tenant, page, self.setup.field_names), rejected

    def dev_status_plan(self, issues: list[Issue]) -> tuple[dict[str, str | None], list[Issue]]:
        """The development summary to store per issue, and the issues whose links to fetch.

        An issue's links are fetched only when its Development field shows pull requests (or
        showed some before) and differs from the summary stored with its links; without a
        readable field (Data Center, no dev tools connected) every issue is asked, as before.
        """
        dev_field = self.setup.dev_field
        stored: dict[str, str | None] = {}
        if not self.setup.nothing_stored:
            stored = self.stored.dev_summaries([i.id for i in issues])
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
