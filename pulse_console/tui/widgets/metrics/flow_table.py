"""The flow numbers as table rows, each remembering which drill-down it opens."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rich.text import Text
from textual.widgets import DataTable

from pulse_console.metrics.flow_metrics import FlowOverview
from pulse_console.metrics.pr_cycle import PrCycleSummary
from pulse_console.services.metrics import Target
from pulse_console.tui.widgets.metrics.figures import hours, per_week, percent


@dataclass(frozen=True)
class Drill:
    """What selecting a row opens (`target` None: nothing behind it to list)."""

    title: str
    target: Target | None
    step_id: int | None = None
    why_not: str = ""


class FlowTable(DataTable[str | Text]):
    def __init__(self, **kwargs: object) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, **kwargs)  # type: ignore[arg-type]
        self.drills: dict[str, Drill] = {}

    def on_mount(self) -> None:
        self._columns()

    def _columns(self) -> None:
        if self.columns:  # at mount, or at the first rows if they come sooner
            return
        self.add_column("Flow", key="name", width=24)
        self.add_column("Value", key="value", width=9)
        self.add_column("Detail", key="detail", width=38)  # fixed: fits 80 columns

    def show(self, flow: FlowOverview, prs: PrCycleSummary, matches: Callable[..., bool]) -> None:
        """Fill the rows; `matches(*cells)` is the screen's `/` filter."""
        self._columns()
        keep = self.cursor_row
        self.clear()
        self.drills = {}
        s = flow.summary
        rows: list[tuple[str, str, str, str, Drill]] = [
            (
                "lead",
                "Lead time (median)",
                hours(s.lead_time_median_hours),
                f"p85 {hours(s.lead_time_p85_hours)} · {s.completed} done",
                Drill("Lead time", "lead"),
            ),
            (
                "cycle",
                "Cycle time (median)",
                hours(s.cycle_time_median_hours),
                f"p85 {hours(s.cycle_time_p85_hours)} · {s.cycle_time_items} items",
                Drill("Cycle time", "cycle"),
            ),
            (
                "throughput",
                "Throughput",
                per_week(s.throughput_per_week),
                f"{s.completed} items done",
                Drill("Throughput", "done"),
            ),
            (
                "wip",
                "WIP at period end",
                str(s.wip_at_end),
                "items in progress",
                Drill("WIP", None, why_not="select an in-progress step to list its items"),
            ),
            (
                "efficiency",
                "Flow efficiency",
                percent(s.flow_efficiency),
                "active ÷ to-do + in-progress",
                Drill("Flow efficiency", None, why_not="select a step to list its items"),
            ),
        ]
        for step in flow.steps:
            waiting = not step.is_active_work and step.category != "done"
            # Per item: the total sums many items' time and does not read as a duration
            # (the drill-down lists the items).
            rows.append(
                (
                    f"step:{step.step_id}",
                    f"Time in {step.step}" + (" (waiting)" if waiting else ""),
                    hours(step.median_hours),
                    f"median · p85 {hours(step.p85_hours)} · total {hours(step.hours)}",
                    Drill(f"Time in {step.step}", "step", step.step_id),
                )
            )
        merged = f"of {prs.merged} merged"
        for key, label, median in (
            ("coding", "PR coding", prs.coding_median_hours),
            ("pickup", "PR pickup", prs.pickup_median_hours),
            ("review", "PR review", prs.review_median_hours),
            ("deploy", "PR deploy", prs.deploy_median_hours),
            ("cycle", "PR cycle", prs.cycle_median_hours),
        ):
            detail = f"median {merged}" + (
                f", {prs.deployed} deployed" if key == "deploy" else " PRs"
            )
            rows.append((f"pr:{key}", label, hours(median), detail, Drill("Pull requests", "prs")))
        for key, name, value, detail, drill in rows:
            if matches(name, value, detail):
                self.add_row(name, value, Text(detail, style="dim"), key=key)
                self.drills[key] = drill
        if self.row_count:
            self.move_cursor(row=min(keep, self.row_count - 1), animate=False)

    def selected(self) -> Drill | None:
        if self.row_count == 0:
            return None
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        return self.drills.get(str(key))
