"""How metric values read on screen: durations, rates and performance levels as words."""

from __future__ import annotations

from rich.text import Text

from pulse_console.metrics.performance_levels import Level

# A level is a word first; the colour only repeats it (NO_COLOR still reads "elite").
LEVEL_STYLE = {"elite": "bold green", "high": "green", "medium": "yellow", "low": "bold red"}


def level_word(level: Level | None) -> Text:
    if level is None:
        return Text("no data", style="dim")
    return Text(level.level, style=LEVEL_STYLE.get(level.level, ""))


def hours(value: float | None) -> str:
    """Hours under two days, days above (a lead time of 90 h reads better as 3.8 d);
    from 100 days on whole days with thousands separators (never 3.521e+05)."""
    if value is None:
        return "—"
    if value < 1:
        return f"{value * 60:.0f} min"
    if value < 48:
        return f"{value:.1f} h"
    if value < 100 * 24:
        return f"{value / 24:.1f} d"
    return f"{value / 24:,.0f} d"


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


def per_week(value: float | None, unit: str = "/wk") -> str:
    return "—" if value is None else f"{value:.1f}{unit}"
