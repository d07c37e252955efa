"""What the Metrics screen shows: DORA, flow and PR-cycle figures of one period and project.

The screen never runs SQL: it asks this module, from a thread worker, for a `MetricsView`
(the calls `benchmarks/bench_metrics.py` times as `screen_queries`) and, when the
operator selects a number, for the rows behind it (`drill_down`).

The period is the `days` whole UTC days before today (`MetricFilter.last_days`), today
excluded so the figures do not move while the screen is open. A release or goal (its
reference number) scopes every figure and drill-down the same way the CLI's `--release`/
`--goal` do (`metrics.plans`); one that is no longer there is refused (`UnknownPlan`).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal, TypeVar

from sqlalchemy import Connection, text

from pulse_console.metrics.delivery_overview import delivery_overview
from pulse_console.metrics.dora import DoraReport
from pulse_console.metrics.filters import DEFAULT_PERIOD_DAYS, MetricFilter
from pulse_console.metrics.flow_metrics import (
    CompletedItem,
    FlowOverview,
    completed_items,
    flow_overview,
)
from pulse_console.metrics.plans import Plan, plans, unknown_plan
from pulse_console.metrics.pr_cycle import PrCycle, PrCycleSummary, pr_cycles
from pulse_console.metrics.settings import MetricsSettings
from pulse_console.metrics.step_items import StepItem, step_items
from storage.db import Database
from storage.tenancy import find_client

T = TypeVar("T")

PERIODS = (30, 90, 180)
DRILL_LIMIT = 500

# What a drill-down opens: items by lead time / cycle time / completion, one step, or PRs.
Target = Literal["lead", "cycle", "done", "step", "prs"]


class UnknownPlan(LookupError):
    """The release or goal asked for is not (or no longer) among the client's."""

    title = "No such release or goal"

    def __init__(self, msg: str) -> None:
        super().__init__(msg)
        self.msg = msg


@dataclass(frozen=True)
class MetricsQuery:
    days: int = DEFAULT_PERIOD_DAYS
    project: str | None = None
    release: str | None = None  # releases.key
    goal: str | None = None  # goals.key (goal or initiative)


@dataclass(frozen=True)
class MetricsView:
    query: MetricsQuery
    since: datetime
    until: datetime
    projects: list[str] = field(default_factory=list)  # the project filter's choices
    plans: list[Plan] = field(default_factory=list)  # the release/goal filter's choices
    dora: DoraReport | None = None  # None: nothing synced for the client yet
    flow: FlowOverview | None = None
    prs: PrCycleSummary | None = None

    @property
    def empty(self) -> bool:
        return self.dora is None


@dataclass(frozen=True)
class DrillDown:
    title: str
    target: Target
    items: list[CompletedItem] = field(default_factory=list)
    step_items: list[StepItem] = field(default_factory=list)
    prs: list[PrCycle] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return len(self.items) + len(self.step_items) + len(self.prs)


def _filter(client_id: int, query: MetricsQuery, now: datetime) -> MetricFilter:
    period = MetricFilter.last_days(client_id, query.days, now=now)
    return period.with_(project=query.project, release=query.release, goal=query.goal)


def _check_plan(conn: Connection, client_id: int, query: MetricsQuery) -> None:
    """Refuse a release or goal the client does not have (deleted since it was picked)."""
    missing = unknown_plan(conn, client_id, query.release, query.goal)
    if missing:
        raise UnknownPlan(f"the client has no {missing} (any more): press g to pick another")


def _client_id(database: Database, client: str) -> int | None:
    with database.session() as session:
        return find_client(session, client)


def load(
    database: Database,
    client: str,
    query: MetricsQuery,
    *,
    now: datetime,
    defaults: MetricsSettings | None = None,
) -> MetricsView:
    """Every figure of the screen for `query` (`defaults`: config.toml's `[metrics]`).

    The delivery part (DORA + PR cycle) and the flow part are independent statements on
    different tables, so they run at once on two connections: the screen waits for the
    slower of the two, not their sum (benchmarks/bench_metrics.py times both ways).
    """
    client_id = _client_id(database, client)
    if client_id is None:
        period = MetricFilter.last_days(0, query.days, now=now)
        return MetricsView(query, period.since, period.until)
    f = _filter(client_id, query, now)
    with database.engine.connect() as conn:
        if not _has_data(conn, client_id):
            return MetricsView(query, f.since, f.until)
        _check_plan(conn, client_id, query)
        settings = MetricsSettings.load(conn, client_id, defaults)
        projects = _projects(conn, client_id)
        choices = plans(conn, client_id)
        conn.rollback()
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="metrics") as pool:
        delivery = pool.submit(_read, database, lambda c: delivery_overview(c, f, settings))
        flow = pool.submit(_read, database, lambda c: flow_overview(c, f))
        return MetricsView(
            query,
            f.since,
            f.until,
            projects=projects,
            plans=choices,
            dora=delivery.result().dora,
            flow=flow.result(),
            prs=delivery.result().pr_cycle,
        )


def _read(database: Database, read: Callable[[Connection], T]) -> T:
    """`read` on a connection of its own, in a transaction that is rolled back."""
    with database.engine.connect() as conn:
        try:
            return read(conn)
        finally:
            conn.rollback()


def drill_down(
    database: Database,
    client: str,
    query: MetricsQuery,
    target: Target,
    *,
    now: datetime,
    step_id: int | None = None,
    title: str = "",
    defaults: MetricsSettings | None = None,
) -> DrillDown:
    """The rows behind one number: completed items, one step's items, or merged PRs."""
    client_id = _client_id(database, client)
    if client_id is None:
        return DrillDown(title, target)
    with database.engine.connect() as conn:
        _check_plan(conn, client_id, query)
        f = _filter(client_id, query, now)
        if target == "step":
            if step_id is None:
                raise ValueError("a step drill-down needs the step's id")
            found = DrillDown(
                title, target, step_items=step_items(conn, f, step_id, limit=DRILL_LIMIT)
            )
        elif target == "prs":
            settings = MetricsSettings.load(conn, client_id, defaults)
            found = DrillDown(title, target, prs=pr_cycles(conn, f, settings, limit=DRILL_LIMIT))
        else:
            found = DrillDown(
                title, target, items=completed_items(conn, f, order=target, limit=DRILL_LIMIT)
            )
        conn.rollback()
    return found


@dataclass(frozen=True)
class MergedPr:
    """One row of `pulse-console metrics prs`: a PR's breakdown and its repository's name."""

    repository: str
    pr: PrCycle


def merged_prs(
    database: Database, client: str, f: MetricFilter, defaults: MetricsSettings | None = None
) -> list[MergedPr]:
    """Every PR merged in `f`'s period with the same breakdown the screen's PR drill-down
    shows (`pr_cycles`, unlimited), newest merge first; `f.client_id` is ignored: the
    client is `client`'s, so no caller can read another client's rows."""
    client_id = _client_id(database, client)
    if client_id is None:
        return []
    with database.engine.connect() as conn:
        settings = MetricsSettings.load(conn, client_id, defaults)
        prs = pr_cycles(conn, replace(f, client_id=client_id), settings)
        names = {
            int(r[0]): str(r[1])
            for r in conn.execute(
                text("SELECT id, full_name FROM repositories WHERE client_id = :c"),
                {"c": client_id},
            )
        }
        conn.rollback()
    rows = [MergedPr(names.get(p.repository_id, str(p.repository_id)), p) for p in prs]
    return sorted(rows, key=lambda r: (r.pr.merged_at, r.repository, r.pr.number), reverse=True)


def _has_data(conn: Connection, client_id: int) -> bool:
    """Has anything been synced for the client yet (else the screen says how to start)?"""
    return bool(
        conn.execute(
            text(
                "SELECT EXISTS (SELECT 1 FROM work_items WHERE client_id = :c)"
                " OR EXISTS (SELECT 1 FROM pull_requests WHERE client_id = :c)"
                " OR EXISTS (SELECT 1 FROM deployments WHERE client_id = :c)"
            ),
            {"c": client_id},
        ).scalar_one()
    )


def _projects(conn: Connection, client_id: int) -> list[str]:
    """Project keys the client has: synced projects and those its work items carry."""
    rows = conn.execute(
        text(
            "SELECT key FROM projects WHERE client_id = :c AND active"
            " UNION SELECT DISTINCT project_key FROM work_items"
            " WHERE client_id = :c AND active AND project_key IS NOT NULL ORDER BY 1"
        ),
        {"c": client_id},
    ).all()
    return [str(r[0]) for r in rows]
