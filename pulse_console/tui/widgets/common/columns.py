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


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    width: int | None  # None: whatever is left


@dataclass(frozen=True)
class ColumnSets:
    wide: Sequence[Column]
    narrow: Sequence[Column]
    narrow_below: int = 120  # terminal columns: below this, the narrow set

    def for_width(self, width: int) -> Sequence[Column]:
        return self.narrow if width < self.narrow_below else self.wide

    def fit(self, table: DataTable[Any], width: int) -> bool:
        """Give `table` the set for `width`; True when its columns were rebuilt (rows gone)."""
        columns = self.for_width(width)
        if [str(key.value) for key in table.columns] == [c.key for c in columns]:
            return False
        table.clear(columns=True)
        for column in columns:
            table.add_column(column.label, width=column.width, key=column.key)
        return True

    def row(self, table: DataTable[Any], cells: Mapping[str, Any], key: str) -> None:
        """Add a row with the cells of the table's current columns."""
        table.add_row(*(cells[str(k.value)] for k in table.columns), key=key)
