"""The work items (or pull requests) behind one Metrics number; Esc goes back."""

from __future__ import annotations

import logging
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.widgets import Static

from pulse_console.services import metrics as service
from pulse_console.services.metrics import DrillDown, MetricsQuery, Target
from pulse_console.tui.format import failure
from pulse_console.tui.messages import DrillLoaded, LoadFailed
from pulse_console.tui.screens.base import PulseScreen
from pulse_console.tui.widgets.common.context_header import ContextHeader
from pulse_console.tui.widgets.metrics.drill_table import DrillTable

log = logging.getLogger(__name__)

WHAT = {
    "lead": "completed in the period, longest lead time first",
    "cycle": "completed in the period, longest cycle time first",
    "done": "completed in the period, in order of completion",
    "step": "that spent time in this step in the period, longest first",
    "prs": "merged in the period, slowest cycle first",
}


class MetricsDrillScreen(PulseScreen):
    SCOPE: ClassVar[str] = "metrics_drill"
    CSS_PATH = "metrics.tcss"

    def __init__(
        self, query: MetricsQuery, title: str, target: Target, step_id: int | None = None
    ) -> None:
        super().__init__()
        self.query_, self.what, self.target, self.step_id = query, title, target, step_id
        self.drill: DrillDown | None = None

    def compose_body(self) -> ComposeResult:
        yield Static("", id="drill-what")
        yield DrillTable(self.target, id="drill-table")

    def on_mount(self) -> None:
        self.query_one(ContextHeader).screen_title = f"Metrics: {self.what}"
        rows = "pull requests" if self.target == "prs" else "work items"
        q = self.query_
        scope = "".join(
            f" · {word} {key}" for word, key in (("release", q.release), ("goal", q.goal)) if key
        )
        self.query_one("#drill-what", Static).update(
            Text(
                f"{self.what}: the {rows} {WHAT[self.target]} · last {q.days} days"
                f" · {q.project or 'all projects'}{scope}"
            )
        )
        self.query_one(DrillTable).focus()

    def reload(self) -> None:
        self.status("Loading…")
        self._load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="metrics-drill")
    def _load(self) -> None:
        ctx = self.ctx
        try:
            drill = ctx.services.metrics.drill_down(
                self.query_,
                self.target,
                now=ctx.clock(),
                step_id=self.step_id,
                title=self.what,
            )
        except Exception as exc:
            log.exception("loading a metrics drill-down failed")
            self.post_message(LoadFailed(*failure(exc, "The list could not be loaded")))
            return
        self.post_message(DrillLoaded(drill))

    def on_drill_loaded(self, message: DrillLoaded) -> None:
        self.drill = message.drill
        self._redraw()

    def on_load_failed(self, message: LoadFailed) -> None:
        self.status(f"{message.title}: {message.text}")

    def apply_filter(self, text: str) -> None:
        self._redraw()

    def _redraw(self) -> None:
        if self.drill is None:
            return
        shown = self.query_one(DrillTable).show(self.drill, self.matches)
        total = self.drill.rows
        if total == 0:
            self.status("Nothing behind this number in the period · Esc back")
        elif shown < total:
            self.status(f"{shown} of {total} rows match the filter · Esc back")
        else:
            limit = f" (the first {service.DRILL_LIMIT})" if total >= service.DRILL_LIMIT else ""
            self.status(f"{total} rows{limit} · / filters · Esc back")
