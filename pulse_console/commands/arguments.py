"""Argument types several commands share (argparse `type=` callables)."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime


def utc_time(value: str) -> datetime:
    """A date or ISO time, as UTC (naive = UTC); argparse's one-line error otherwise."""
    try:
        parsed = datetime.fromisoformat(value)
        parsed = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date or ISO time: {value!r}") from exc
    except OverflowError:
        raise argparse.ArgumentTypeError(f"out of the supported range: {value!r}") from None
    return parsed
