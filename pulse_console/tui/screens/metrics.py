"""Metrics: the four DORA numbers with levels and trends, flow and PR-cycle figures.

Keys: 1 / 3 / 6 set the period (30, 90, 180 days), p picks a project, g a release or goal
(shown under the period; every figure and drill-down honours it), Enter on a flow number
opens the work items behind it. Figures come from `services.metrics` in a thread
worker; a failure is shown here, in words, instead of the figures.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta
from typing import ClassVar

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Label, Static

from pulse_console.metrics.dora import DoraReport
from pulse_console.metrics.plans import Plan
from pulse_console.services.metrics import MetricsQuery, MetricsView
from pulse_console.tui.dialogs.choose import ChooseDialog
from pulse_console.tui.format import failure, option_label
from pulse_console.tui.messages import LoadFailed, MetricsLoaded
from pulse_console.tui.screens.base import PulseScreen
from pulse_console.tui.screens.metrics_drill import MetricsDrillScreen
from pulse_console.tui.widgets.metrics.figures import hours, level_word, per_week, percent
from pulse_console.tui.widgets.metrics.flow_table import FlowTable
from pulse_console.tui.widgets.metrics.trend_row import TrendRow

log = logging.getLogger(__name__)

ALL = "*"  # the project chooser's "all projects" key, the plan chooser's "no release or goal"
DORA_ROWS = {
    "deployment_frequency": "Deployment frequency",
    "lead_time_for_changes": "Lead time for changes",
    "change_failure_rate": "Change failure rate",
    "time_to_restore": "Time to restore",
}


class MetricsScreen(PulseScreen):
    SCOPE: ClassVar[str] = "metrics"
    CSS_PATH = "metrics.tcss"
    FILTER_HINT: ClassVar[str] = "filter flow rows (Enter applies, Esc clears)"

    def __init__(self) -> None:
        super().__init__()
        self.query_ = MetricsQuery()
        self.view: MetricsView | None = None
        self._back_from_drill = False

    def compose_body(self) -> ComposeResult:
        with Vertical(id="metrics-body"):
            yield Static("", id="metrics-period")
            yield Static("", id="metrics-scope")
            yield Static("", id="metrics-error")
            yield Label("DORA", id="dora-title", classes="section")
            with Vertical(id="dora"):
                for key, name in DORA_ROWS.items():
                    yield TrendRow(name, id=f"dora-{key}")
            yield Label("Flow", classes="section")
            yield TrendRow("Throughput per week", id="trend-throughput")
            yield TrendRow("WIP per day", id="trend-wip")
            yield FlowTable(id="flow-table")

    def on_mount(self) -> None:
        self.query_one("#metrics-error").display = False
        self._draw_scope()
        self.query_one(FlowTable).focus()

    # --- loading ----------------------------------------------------------------------

    @on(events.ScreenResume)
    def _keep_figures_after_drill(self, event: events.ScreenResume) -> None:
        # Textual runs PulseScreen.on_screen_resume (reload) after this unless prevented.
        if self._back_from_drill and self.view is not None:
            event.prevent_default()  # same period and project: the figures still hold
        self._back_from_drill = False

    def reload(self) -> None:
        self.query_one("#metrics-body").loading = True
        self.status(f"Loading the last {self.query_.days} days…")
        self._load(self.query_)

    @work(thread=True, exclusive=True, exit_on_error=False, group="metrics")
    def _load(self, query: MetricsQuery) -> None:
        try:
            view = self.ctx.services.metrics.load(query, now=self.ctx.clock())
        except Exception as exc:
            log.exception("loading metrics failed")
            self.post_message(LoadFailed(*failure(exc, "The metrics could not be computed")))
            return
        self.post_message(MetricsLoaded(view))

    def on_metrics_loaded(self, message: MetricsLoaded) -> None:
        if message.view.query != self.query_:
            return  # an older load finished after a newer one was asked for
        self.query_one("#metrics-body").loading = False
        self.query_one("#metrics-error").display = False
        self.view = message.view
        self._redraw()

    def on_load_failed(self, message: LoadFailed) -> None:
        self.query_one("#metrics-body").loading = False
        error = self.query_one("#metrics-error", Static)
        error.update(Text.assemble((message.title, "bold"), ": ", message.text))
        error.display = True
        self.view = None  # figures of an earlier period or project would mislead here
        for row in self.query(TrendRow):
            row.show("—", "", [])
        self.query_one(FlowTable).clear()
        self.status("Figures not shown: fix the cause above, then r to retry.")

    # --- drawing ----------------------------------------------------------------------

    def apply_filter(self, text: str) -> None:
        self._redraw()

    def _redraw(self) -> None:
        view = self.view
        if view is None:
            return
        last_day = (view.until - timedelta(days=1)).date()  # the period ends before `until`
        project = view.query.project or "all"
        year = f" · benchmark {view.dora.benchmark_year}" if view.dora else ""
        self.query_one("#metrics-period", Static).update(
            Text.assemble(
                ("Last ", ""),
                (f"{view.query.days} days", "bold"),
                f" ({view.since.date()} → {last_day}) · project ",
                (project, "bold"),
                year,
            )
        )
        self._draw_scope()
        self._draw_dora(view.dora)
        table = self.query_one(FlowTable)
        if view.flow is None or view.prs is None:
            for trend in ("#trend-throughput", "#trend-wip"):
                self.query_one(trend, TrendRow).show("—", "", [])
            table.clear()
            self.status(
                f"No data yet for {self.ctx.client}: run the Jira and GitHub syncs (:jobs)."
            )
            return
        s = view.flow.summary
        self.query_one("#trend-throughput", TrendRow).show(
            per_week(s.throughput_per_week), "", [w.count for w in view.flow.throughput]
        )
        self.query_one("#trend-wip", TrendRow).show(
            f"{s.wip_at_end} at end", "", [d.count for d in view.flow.wip]
        )
        table.show(view.flow, view.prs, self.matches)
        dora = view.dora
        deploys = (
            f"{dora.deployments} deploys ({dora.failed_deployments} failed) · " if dora else ""
        )
        self.status(
            f"{deploys}{s.completed} done · {view.prs.merged} PRs · Enter: items behind a number"
        )

    def _draw_scope(self) -> None:
        """The release or goal every figure is scoped to, under the period (hidden: none)."""
        line = self.query_one("#metrics-scope", Static)
        query = self.query_
        line.display = bool(query.release or query.goal)
        if not line.display:
            return
        known = {(p.kind == "release", p.key): p for p in self.view.plans} if self.view else {}
        parts: list[str | tuple[str, str]] = []
        for is_release, key in ((True, query.release), (False, query.goal)):
            if key is None:
                continue
            plan = known.get((is_release, key))
            kind = plan.kind if plan else ("release" if is_release else "goal")
            parts += [" and " if parts else "", f"{kind.capitalize()} ", (key, "bold")]
            if plan and plan.name:
                parts.append(f" {plan.name}")
        parts.append(" · its items, linked issues, PRs and deployments")
        line.update(Text.assemble(*parts))

    def _draw_dora(self, dora: DoraReport | None) -> None:
        if dora is None:
            for key in DORA_ROWS:
                self.query_one(f"#dora-{key}", TrendRow).show("—", level_word(None), [])
            return
        weeks = dora.weeks
        values: dict[str, tuple[str, Sequence[float | None]]] = {
            "deployment_frequency": (
                per_week(dora.deployment_frequency.value, " d/wk"),
                [w.deployments for w in weeks],
            ),
            "lead_time_for_changes": (
                hours(dora.lead_time_for_changes.value),
                [w.lead_time_median_hours for w in weeks],
            ),
            "change_failure_rate": (
                percent(dora.change_failure_rate.value),
                [w.change_failure_rate for w in weeks],
            ),
            "time_to_restore": (
                hours(dora.time_to_restore.value),
                [w.time_to_restore_median_hours for w in weeks],
            ),
        }
        for metric in dora.metrics:
            value, series = values[metric.name]
            row = self.query_one(f"#dora-{metric.name}", TrendRow)
            row.show(value, level_word(metric.level), series)

    # --- actions ----------------------------------------------------------------------

    def action_period(self, days: int) -> None:
        if days != self.query_.days:
            self.query_ = replace(self.query_, days=days)
            self.reload()

    def action_project(self) -> None:
        projects = self.view.projects if self.view else []
        options = [(ALL, "All projects"), *[(p, p) for p in projects]]

        def chosen(key: str | None) -> None:
            if key is None:
                return
            project = None if key == ALL else key
            if project != self.query_.project:
                self.query_ = replace(self.query_, project=project)
                self.reload()

        self.app.push_screen(ChooseDialog("Show the metrics of…", options), chosen)

    def action_plan(self) -> None:
        reason = self.disabled_reason("plan")
        if reason:
            self.notify(reason[0].upper() + reason[1:] + ".", severity="warning")
            return
        plans = self.view.plans if self.view else []
        options = [(ALL, "Everything: no release or goal")]
        options += [(_plan_id(p), _label(p)) for p in plans]

        def chosen(key: str | None) -> None:
            if key is None:
                return  # Esc: the scope stays as it was
            kind, _, plan_key = key.partition(":")
            release = plan_key if kind == "release" else None
            goal = plan_key if kind == "goal" else None
            if (release, goal) != (self.query_.release, self.query_.goal):
                self.query_ = replace(self.query_, release=release, goal=goal)
                self._draw_scope()
                self.reload()

        self.app.push_screen(ChooseDialog("Scope every figure to…", options), chosen)

    def disabled_reason(self, action: str) -> str | None:
        if action == "drill" and (self.view is None or self.view.flow is None):
            return "no figures to drill into yet"
        no_plans = self.view is None or not self.view.plans
        if action == "plan" and no_plans and not (self.query_.release or self.query_.goal):
            return "no releases or goals yet: sync an Aha! integration"
        return None

    def action_drill(self) -> None:
        reason = self.disabled_reason("drill")
        if reason:
            self.notify(reason.capitalize() + ".", severity="warning")
            return
        drill = self.query_one(FlowTable).selected()
        if drill is None:
            return
        if drill.target is None:
            self.status(f"{drill.title} has no list of its own: {drill.why_not}.")
            return
        self._back_from_drill = True
        self.app.push_screen(
            MetricsDrillScreen(self.query_, drill.title, drill.target, drill.step_id)
        )

    @on(DataTable.RowSelected, "#flow-table")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_drill()


def _plan_id(plan: Plan) -> str:
    """The chooser's key: `release:KEY` or `goal:KEY` (initiatives are goals)."""
    return f"{'release' if plan.kind == 'release' else 'goal'}:{plan.key}"


def _label(plan: Plan) -> str:
    name = f" · {plan.name}" if plan.name else ""
    return option_label(f"{plan.kind.capitalize()} {plan.key}{name}")
