"""One metric on one line: its name, value, level (a word) and a weekly sparkline."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label, Sparkline


class TrendRow(Horizontal):
    """`Lead time for changes   26.0 h   high   ▂▃▅▂▁▇`."""

    def __init__(self, name: str, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._label = name

    def compose(self) -> ComposeResult:
        yield Label(self._label, classes="trend-name")
        yield Label("—", classes="trend-value")
        yield Label("", classes="trend-level")
        yield Sparkline([], classes="trend-spark")

    def show(self, value: str, level: Text | str, series: Sequence[float | None]) -> None:
        """A week without a value draws as zero, so weeks stay aligned across rows."""
        self.query_one(".trend-value", Label).update(value)
        self.query_one(".trend-level", Label).update(level)
        spark = self.query_one(Sparkline)
        spark.data = [0.0 if v is None else float(v) for v in series]
        spark.display = bool(series)  # no series: no line at all, not a flat one
