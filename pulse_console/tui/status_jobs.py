"""A read-only `JobsPort` over `engine.status` until the engine's service API lands.

Lists jobs; controls are refused with a clear reason; no runs, progress or events yet.
Replace with the engine adapter (see ports.py) when the engine is merged.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

from pulse_console.engine.status import list_jobs
from pulse_console.tui.ports import (
    Control,
    ControlRefused,
    JobEvent,
    JobProgress,
    JobView,
    OrchestratorView,
    RunDetail,
    RunView,
)
from storage.db import Database


class StatusOnlyJobs:
    def __init__(self, database: Database, client: str) -> None:
        self._database = database
        self._client = client
        self._closed = threading.Event()

    def jobs(self) -> list[JobView]:
        return [
            JobView(
                name=j.name,
                status=j.status,  # type: ignore[arg-type]
                status_reason=j.status_reason,
                last_run_at=j.last_run_at,
                next_run_at=j.next_run_at,
                retry_count=j.retry_count,
            )
            for j in list_jobs(self._database, self._client)
        ]

    def orchestrator(self) -> OrchestratorView:
        return OrchestratorView(running=False, paused=False, next_tick_at=None, mode="none")

    def progress(self) -> JobProgress | None:
        return None

    def runs(self, job: str | None, limit: int = 200) -> list[RunView]:
        return []

    def run_detail(self, run_id: int) -> RunDetail | None:
        return None

    def control(self, action: Control, job: str | None = None) -> None:
        raise ControlRefused(
            "This console build cannot control jobs yet: the engine service is not wired in. "
            "Use `pulse-console worker` / `sync` from a shell."
        )

    def events(self) -> Iterator[JobEvent]:
        self._closed.wait()
        return iter(())

    def close(self) -> None:
        self._closed.set()
