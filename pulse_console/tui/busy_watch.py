"""A spinner in the header while the console waits on slow work (a slow database, an API).

Screens load in thread workers, so a slow database never freezes the UI, but without a sign
the operator cannot tell "slow" from "nothing there". While the console is live, a timer looks
at the running workers; once one has run for `after` seconds the header shows a spinner and
how long it has waited, until none is left. Workers that run for the app's whole life (event
streams, the embedded engine, the database probe) are not waits and are skipped.
"""

from __future__ import annotations

from collections.abc import Callable
from time import monotonic
from typing import Any

from textual.app import App
from textual.worker import Worker, WorkerState

FRAMES = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
LONG_LIVED = frozenset({"engine-host", "jobs-events", "database-watch"})


class BusyWatch:
    def __init__(self, app: App[Any], *, after: float = 1.0, every: float = 0.2) -> None:
        self.app = app
        self.after = after
        self.every = every
        self._seen: dict[int, float] = {}  # worker id → when this watch first saw it running
        self._frame = 0
        self.label = ""  # what the header shows ("" when nothing waits)

    def start(self, show: Callable[[str], None]) -> None:
        """Tick every `every` seconds and hand each label to `show` (the current header)."""
        self.app.set_interval(self.every, lambda: show(self.tick()), name="busy-watch")

    def tick(self, now: float | None = None) -> str:
        """Look at the workers; returns (and keeps) the header's label."""
        now = monotonic() if now is None else now
        running: list[Worker[Any]] = [
            w
            for w in self.app.workers
            if w.state in (WorkerState.PENDING, WorkerState.RUNNING) and w.group not in LONG_LIVED
        ]
        self._seen = {id(w): self._seen.get(id(w), now) for w in running}
        waited = max((now - start for start in self._seen.values()), default=0.0)
        if waited < self.after:
            self.label = ""
        else:
            self._frame = (self._frame + 1) % len(FRAMES)
            self.label = f"{FRAMES[self._frame]} waiting {waited:.0f}s"
        return self.label
