"""DORA performance levels from a benchmark table (`dora_benchmarks.toml`): the year is data.

A level is looked up, never computed from thresholds written in code: adding the 2024 rows
is an edit of the TOML file, and `settings.benchmark_year` chooses which rows apply.
"""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass
from importlib import resources

METRICS = (
    "deployment_frequency",
    "lead_time_for_changes",
    "change_failure_rate",
    "time_to_restore",
)


class UnknownBenchmarkYear(Exception):
    def __init__(self, year: int, known: list[int]) -> None:
        super().__init__(
            f"no DORA benchmark rows for {year}; set metrics.benchmark_year to one of {known}"
        )
        self.title = "Unknown benchmark year"
        self.msg = str(self)


@dataclass(frozen=True)
class BenchmarkRow:
    year: int
    metric: str
    level: str
    label: str
    at_least: float | None = None
    below: float | None = None
    at_most: float | None = None

    def matches(self, value: float) -> bool:
        if self.at_least is not None:
            return value >= self.at_least
        if self.below is not None:
            return value < self.below
        if self.at_most is not None:
            return value <= self.at_most
        return True


@dataclass(frozen=True)
class Level:
    level: str  # elite | high | medium | low
    label: str
    year: int


@functools.cache
def benchmark_rows() -> tuple[BenchmarkRow, ...]:
    raw = resources.files(__package__).joinpath("dora_benchmarks.toml").read_text("utf-8")
    return tuple(BenchmarkRow(**row) for row in tomllib.loads(raw)["row"])


def years() -> list[int]:
    return sorted({r.year for r in benchmark_rows()})


def level_for(metric: str, value: float | None, year: int) -> Level | None:
    """The performance level of `value`; None when there is no value to rate."""
    if value is None:
        return None
    rows = [r for r in benchmark_rows() if r.year == year and r.metric == metric]
    if not rows:
        raise UnknownBenchmarkYear(year, years())
    for row in rows:
        if row.matches(value):
            return Level(row.level, row.label, year)
    return None
