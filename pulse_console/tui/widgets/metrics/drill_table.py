"""The rows behind one number: completed items, one step's items, or merged PRs."""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual.widgets import DataTable

from pulse_console.services.metrics import DrillDown
from pulse_console.tui.format import clip, when
from pulse_console.tui.widgets.metrics.figures import hours


class DrillTable(DataTable[str | Text]):
    def __init__(self, **kwargs: object) -> None:
        super().__init__(cursor_type="row", **kwargs)  # type: ignore[arg-type]

    def show(self, drill: DrillDown, matches: Callable[..., bool]) -> int:
        """Fill the table; returns how many rows the filter kept."""
        self.clear(columns=True)
        if drill.target == "step":
            self.add_columns("Key", "Summary", "Type", "In step", "Visits", "Now")
            for s in drill.step_items:
                cells = (
                    s.key or str(s.id),
                    clip(s.summary or "", 40),
                    s.type or "",
                    hours(s.hours),
                )
                if matches(*cells):
                    here = "still here" if s.in_step_at_end else "left"
                    self.add_row(*cells, str(s.visits), here, key=str(s.id))
        elif drill.target == "prs":
            self.add_columns("PR", "Title", "Coding", "Pickup", "Review", "Deploy", "Merged")
            for p in drill.prs:
                pr_cells = (f"#{p.number}", clip(p.title or "", 40), p.author or "")
                if matches(*pr_cells):
                    self.add_row(
                        pr_cells[0],
                        pr_cells[1],
                        hours(p.coding_hours),
                        hours(p.pickup_hours),
                        hours(p.review_hours),
                        hours(p.deploy_hours),
                        when(p.merged_at)[:10],
                        key=str(p.id),
                    )
        else:
            self.add_columns("Key", "Summary", "Type", "Lead", "Cycle", "Done")
            for i in drill.items:
                item_cells = (i.key or str(i.id), clip(i.summary or "", 40), i.type or "")
                if matches(*item_cells):
                    self.add_row(
                        *item_cells,
                        hours(i.lead_hours),
                        hours(i.cycle_hours),
                        when(i.done_at)[:10],
                        key=str(i.id),
                    )
        return self.row_count
