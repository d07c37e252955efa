"""Text formatting shared by screens: times, durations, sizes, status words with colour."""

from __future__ import annotations

from datetime import UTC, datetime

from rich.text import Text

# A word and a colour, never colour alone (NO_COLOR and 16-colour terminals still read it).
STATUS_STYLE = {
    "RUNNING": "bold cyan",
    "PENDING": "yellow",
    "FINISHED": "green",
    "FAILED": "bold red",
    "PAUSED": "magenta",
    "OK": "green",
    "WARN": "yellow",
    "FAIL": "bold red",
    "UNKNOWN": "dim",
    "ERROR": "bold red",
    "CRITICAL": "bold red reverse",
    "WARNING": "yellow",
    "INFO": "",
    "DEBUG": "dim",
}


def status(word: str) -> Text:
    return Text(word, style=STATUS_STYLE.get(word, ""))


def when(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if value else "—"


def short_when(value: datetime | None) -> str:
    """Month-day and time, for narrow tables."""
    return value.astimezone(UTC).strftime("%m-%d %H:%M") if value else "—"


def clock_time(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%H:%M:%S")


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    seconds = int(max(0, seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"


def countdown(target: datetime | None, now: datetime) -> str:
    if target is None:
        return "—"
    delta = (target - now).total_seconds()
    return f"in {duration(delta)}" if delta > 0 else "due"


def size(num: int) -> str:
    value = float(num)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{int(value)} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{num} B"


def clip(text: str, width: int = 300) -> str:
    """One line, at most `width` characters (very long lines never hang the table)."""
    line = text.replace("\r", " ").replace("\n", " ⏎ ")
    return line if len(line) <= width else line[: width - 1] + "…"


def bar(done: int, total: int | None, width: int = 30) -> str:
    """A deterministic text progress bar (no animation, so snapshots are stable)."""
    if not total:
        return "·" * width
    filled = min(width, int(width * done / total))
    return "█" * filled + "░" * (width - filled)


def failure(exc: BaseException, fallback: str) -> tuple[str, str]:
    """An operator-facing title and message for an error (typed errors carry their own)."""
    title = getattr(exc, "title", None) or fallback
    text = getattr(exc, "msg", None) or getattr(exc, "message", None) or str(exc)
    return str(title), str(text or type(exc).__name__)


def option_label(text: str) -> str:
    """Text from the database as a choice's label: printable characters only, and no markup
    (an option list reads ``[…]`` as markup)."""
    from textual.markup import escape

    return escape("".join(ch for ch in text if ch.isprintable()))
