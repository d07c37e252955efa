"""Waiting for a console's workers in tests.

A screen's loader runs in an exclusive worker group, so a newer load cancels the
one before it. Textual's ``wait_for_complete`` raises on that cancelled worker;
a superseded load is normal, only a failed one is an error.
"""

from __future__ import annotations

import asyncio

from textual.app import App
from textual.worker import WorkerFailed


async def workers_done(app: App[object]) -> None:
    """Wait until no worker of ``app`` is running; raise if any failed."""
    while running := [worker for worker in app.workers if not worker.is_finished]:
        results = await asyncio.gather(
            *(worker.wait() for worker in running), return_exceptions=True
        )
        for result in results:
            if isinstance(result, WorkerFailed):
                raise result
