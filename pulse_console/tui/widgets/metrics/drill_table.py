"""The rows behind one number: completed items, one step's items, or merged PRs."""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual.widgets import DataTable

from pulse_console.services.metrics import DrillDown, Target
from pulse_console.tui.format import clip, when
from pulse_console.tui.widgets.metrics.figures import hours

# Fixed widths (they fit 80 columns): the layout never depends on when rows are measured.
TEXT = 26
COLUMNS: dict[str, tuple[tuple[str, int], ...]] = {
    "step": (
        ("Key", 9),
        ("Summary", TEXT),
        ("Type", 7),
        ("In step", 8),
        ("Visits", 6),
        ("Now", 10),
    ),
    "prs": (
        ("PR", 6),
        ("Title", TEXT - 6),
        ("Coding", 7),
        ("Pickup", 7),
        ("Review", 7),
        ("Deploy", 7),
        ("Merged", 10),
    ),
    "items": (("Key", 9), ("Summary", TEXT), ("Type", 7), ("Lead", 7), ("Cycle", 7), ("Done", 10)),
}


class DrillTable(DataTable[str | Text]):
    """One kind of rows for its lifetime: the columns are set once, at mount."""

    def __init__(self, target: Target, **kwargs: object) -> None:
        super().__init__(cursor_type="row", **kwargs)  # type: ignore[arg-type]
        self.target = target

    def on_mount(self) -> None:
        self._columns()

    def _columns(self) -> None:
        if not self.columns:  # at mount, or at the first rows if they come sooner
            for label, width in COLUMNS.get(self.target, COLUMNS["items"]):
                self.add_column(label, width=width)

    def show(self, drill: DrillDown, matches: Callable[..., bool]) -> int:
        """Fill the table; returns how many rows the filter kept."""
        self._columns()
        self.clear()
        if drill.target == "step":
            for s in drill.step_items:
                cells = (
                    s.key or str(s.id),
                    clip(s.summary or "", TEXT),
                    s.type or "",
                    hours(s.hours),
                )
                if matches(*cells):
                    here = "still here" if s.in_step_at_end else "left"
                    self.add_row(*cells, str(s.visits), here, key=str(s.id))
        elif drill.target == "prs":
            for p in drill.prs:
                pr_cells = (f"#{p.number}", clip(p.title or "", TEXT - 6), p.author or "")
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
            for i in drill.items:
                item_cells = (i.key or str(i.id), clip(i.summary or "", TEXT), i.type or "")
                if matches(*item_cells):
                    self.add_row(
                        *item_cells,
                        hours(i.lead_hours),
                        hours(i.cycle_hours),
                        when(i.done_at)[:10],
                        key=str(i.id),
                    )
        return self.row_count
