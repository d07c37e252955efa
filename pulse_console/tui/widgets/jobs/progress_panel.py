"""The running job's live progress: phase, bar, items/s, ETA, API calls, API budget, wait."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.widgets import Static

from pulse_console.tui.format import bar, clock_time, countdown, duration
from pulse_console.tui.ports import LiveProgress


class ProgressPanel(Static):
    DEFAULT_CSS = """
    ProgressPanel { height: auto; min-height: 3; padding: 0 1; border-top: solid $primary-muted; }
    """

    def show(self, progress: LiveProgress | None, now: datetime) -> None:
        self.update(render_progress(progress, now, max(10, min(40, self.size.width - 50))))


def render_progress(progress: LiveProgress | None, now: datetime, width: int = 30) -> Text:
    if progress is None:
        return Text("No job is running.", style="dim")
    text = Text.assemble(
        (progress.job, "bold"),
        f"  run {progress.run_id or '—'}  phase ",
        (progress.phase, "bold"),
        "\n",
    )
    if progress.total:
        pct = 100 * progress.done / progress.total
        text.append(bar(progress.done, progress.total, width), style="cyan")
        text.append(f" {progress.done:,}/{progress.total:,} ({pct:.0f}%)")
    else:
        text.append(bar(0, None, width), style="cyan")
        text.append(f" {progress.done:,} items (total unknown)")
    eta = duration(progress.eta_seconds) if progress.eta_seconds is not None else "—"
    text.append(
        f"\n{progress.items_per_second:,.1f} items/s · ETA {eta} · {progress.api_calls:,} API calls"
    )
    budget = progress.budget
    if budget is not None:
        text.append("\nAPI budget ", style="dim")
        text.append(budget.describe(now), style="yellow" if budget.low(now) else "")
    if progress.rate_limit_reset_at is not None:
        text.append("\n")
        text.append("RATE LIMITED", style="bold yellow")
        text.append(
            f" — waiting until {clock_time(progress.rate_limit_reset_at)} UTC "
            f"({countdown(progress.rate_limit_reset_at, now)}); not a hang"
        )
    return text
