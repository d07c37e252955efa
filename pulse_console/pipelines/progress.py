"""Progress and cancellation between batches (every pipeline).

A progress consumer's bug (the console, a CLI line) must never fail a sync, so reports go
through `report`. A stop request is honoured between batches by `stop_if_cancelled` (the
HTTP stack also checks it before every request); the checkpoint is consistent at that point.
"""

from __future__ import annotations

from connectors.errors import Cancelled
from pulse_console.pipelines.base import Progress, RunContext


def report(ctx: RunContext, progress: Progress) -> None:
    """Hand ``progress`` to the run's consumer; a failure there is logged, not raised."""
    try:
        ctx.report(progress)
    except Exception:  # a progress display bug must never break the sync
        ctx.log.exception("progress callback failed")


def stop_if_cancelled(ctx: RunContext, message: str) -> None:
    """Raise `Cancelled` with ``message`` (what is kept, where the next run resumes)."""
    if ctx.cancel.cancelled:
        raise Cancelled(message)
