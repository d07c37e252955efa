"""Fixed column sets for a DataTable, chosen from the terminal's width.

Column widths stay fixed (auto-sized columns changed with the moment rows arrived, and with
them the snapshots), but one fixed set cannot suit both 80 and 160 columns. A table declares
a wide and a narrow set; `fit` picks one from the width and rebuilds the columns only when
the choice changes. Rows are given as {column key: cell}, so each set orders or leaves out
columns freely.

A column may grow (`grow_to`) into the room the rest column has beyond `rest_keeps`, so a
name column is wider on a wider terminal without starving the rest. A cell longer than its
column ends in "…" (`cell`), never cut mid-word without a mark; its full text is in the
screen's detail line or view.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual.widgets import DataTable

PADDING = 1  # DataTable's cell padding, each side
SCROLLBAR = 2  # the vertical scrollbar's width
MIN_REST = 8


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    width: int | None  # None: whatever the terminal has left (at least MIN_REST)
    grow_to: int | None = None  # wider, up to this, while the rest keeps `rest_keeps`


@dataclass(frozen=True)
class ColumnSets:
    wide: Sequence[Column]
    narrow: Sequence[Column]
    narrow_below: int = 120  # terminal columns: below this, the narrow set
    rest_keeps: int = MIN_REST  # the rest column's cells that growing columns leave it

    def for_width(self, width: int) -> Sequence[Column]:
        return self.narrow if width < self.narrow_below else self.wide

    def widths(self, width: int) -> list[tuple[Column, int]]:
        """Each column of the set for `width` with its width in cells.

        The rest column gets an explicit width too: an auto-sized one was drawn at its
        label's width when rows arrived after the first render (Textual kept stale lines).
        """
        columns = self.for_width(width)
        used = sum(c.width + 2 * PADDING for c in columns if c.width is not None)
        rest = max(MIN_REST, width - used - 2 * PADDING - SCROLLBAR)
        sized: list[tuple[Column, int]] = []
        for column in columns:
            cells = column.width or 0
            if column.grow_to is not None and column.width is not None:
                extra = max(0, min(column.grow_to - column.width, rest - self.rest_keeps))
                cells, rest = cells + extra, rest - extra
            sized.append((column, cells))
        return [(c, rest if c.width is None else cells) for c, cells in sized]

    def fit(self, table: DataTable[Any], width: int) -> bool:
        """Give `table` the columns for `width`; True when they were rebuilt (rows gone)."""
        wanted = self.widths(width)
        current = [(str(key.value), c.width) for key, c in table.columns.items()]
        if current == [(c.key, w) for c, w in wanted]:
            return False
        if table.columns:
            table.clear(columns=True)
        for column, cells in wanted:
            table.add_column(column.label, width=cells, key=column.key)
        return True

    def row(self, table: DataTable[Any], cells: Mapping[str, Any], key: str) -> None:
        """Add a row with the cells of the table's current columns."""
        table.add_row(*(cell(cells[str(k.value)]) for k in table.columns), key=key)


def cell(value: Any) -> Any:
    """A cell that ends in "…" when longer than its column (text is shown as typed: a
    name or a server's message is never read as markup)."""
    if isinstance(value, str):
        return Text(value, no_wrap=True, overflow="ellipsis", end="")
    if isinstance(value, Text):
        fitted = value.copy()
        fitted.no_wrap, fitted.overflow = True, "ellipsis"
        return fitted
    return value
