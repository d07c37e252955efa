"""Fixed column sets for a DataTable, chosen from the terminal's width.

Column widths stay fixed (auto-sized columns changed with the moment rows arrived, and with
them the snapshots), but one fixed set cannot suit both 80 and 160 columns. A table declares
a wide and a narrow set; `fit` picks one from the width and rebuilds the columns only when
the choice changes. Rows are given as {column key: cell}, so each set orders or leaves out
columns freely.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from textual.widgets import DataTable

PADDING = 1  # DataTable's cell padding, each side
SCROLLBAR = 2  # the vertical scrollbar's width
MIN_REST = 8


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    width: int | None  # None: whatever the terminal has left (at least MIN_REST)


@dataclass(frozen=True)
class ColumnSets:
    wide: Sequence[Column]
    narrow: Sequence[Column]
    narrow_below: int = 120  # terminal columns: below this, the narrow set

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
        return [(c, rest if c.width is None else c.width) for c in columns]

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
        table.add_row(*(cells[str(k.value)] for k in table.columns), key=key)
