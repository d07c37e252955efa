"""A scripted JobsPort for snapshots (and control tests of the screen's own logic)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from pulse_console.engine.states import JobStatus
from pulse_console.tui.ports import (
    Control,
    ControlRefused,
    JobEvent,
    JobView,
    LiveProgress,
    OrchestratorView,
    RateBudget,
    RunSummary,
)

NOW = datetime(2026, 1, 15, 9, 30, tzinfo=UTC)


def job_row(
    name: str,
    status: str,
    reason: str | None = None,
    last_run_at: datetime | None = None,
    next_run_at: datetime | None = None,
    retry_count: int = 0,
    last_records: int | None = None,
) -> JobView:
    """A row of the jobs table, as the engine reads it (ids and chain positions made up)."""
    return JobView(
        id=0,
        name=name,
        status=JobStatus(status),
        position=0,
        retry_count=retry_count,
        next_run_at=next_run_at,
        parked_until=None,
        status_reason=reason,
        integration_id=None,
        last_run_at=last_run_at,
        last_finished_at=None,
        last_records=last_records,
    )


def seeded_jobs() -> list[JobView]:
    return [
        job_row("sandbox-jira", "RUNNING", None, NOW - timedelta(minutes=4), None, 0, 12_480),
        job_row(
            "sandbox-github",
            "FAILED",
            "503 from api.github.com",
            NOW - timedelta(hours=1),
            NOW + timedelta(minutes=11, seconds=20),
            2,
            310,
        ),
        job_row(
            "deployments_sync",
            "FINISHED",
            None,
            NOW - timedelta(hours=2),
            NOW + timedelta(minutes=30),
            0,
            58,
        ),
    ]


class FakeJobs:
    def __init__(
        self,
        jobs: list[JobView] | None = None,
        progress: LiveProgress | None = None,
        orchestrator: OrchestratorView | None = None,
        gate: threading.Event | None = None,
    ) -> None:
        self._gate = gate  # jobs() waits for it (a slow engine: the screen stays busy)
        self._jobs = list(jobs or [])
        self._progress = progress
        self._orch = orchestrator or OrchestratorView(True, False, NOW + timedelta(minutes=26))
        self.controls: list[tuple[str, str | None]] = []
        self.closed = False

    def jobs(self) -> list[JobView]:
        if self._gate is not None:
            self._gate.wait(timeout=5)
        return list(self._jobs)

    def orchestrator(self) -> OrchestratorView:
        return self._orch

    def progress(self) -> LiveProgress | None:
        return self._progress

    def runs(self, job: str | None, limit: int = 200) -> list[RunSummary]:
        runs = [
            RunSummary(
                41,
                "sandbox-jira",
                "schedule",
                "FINISHED",
                NOW - timedelta(hours=2),
                NOW - timedelta(hours=2) + timedelta(minutes=3, seconds=12),
                1204,
                37,
            ),
            RunSummary(
                40,
                "sandbox-github",
                "retry",
                "FAILED",
                NOW - timedelta(hours=3),
                NOW - timedelta(hours=3) + timedelta(seconds=41),
                12,
                9,
                "HTTP 503 from api.github.com after 3 retries",
            ),
        ]
        return [r for r in runs if job is None or r.job == job]

    def run_detail(self, run_id: int) -> RunSummary | None:
        run = next((r for r in self.runs(None) if r.id == run_id), None)
        if run is None:
            return None
        stats: dict[str, Any] = {"issues": 1204}
        if run.job == "sandbox-github":
            stats = {
                "pull_requests": 12,
                "points_used": 790,
                "points_remaining": 4210,
                "points_limit": 5000,
                "points_reset_at": "2026-01-15T06:55:00+00:00",
            }
        return replace(
            run,
            checkpoint_before={"updated": "2026-01-15T06:00:00Z", "page": 0},
            checkpoint_after={"updated": "2026-01-15T07:31:10Z", "page": 0},
            stats=stats,
        )

    def control(self, action: Control, job: str | None = None) -> None:  # scripted, not the rules
        self.controls.append((action, job))
        if action == "stop" and job:
            self._set(job, "FINISHED")
            self._progress = None
        elif action == "pause" and job:
            self._set(job, "PAUSED")
        elif (action == "resume" and job) or (action == "start" and job):
            self._set(job, "RUNNING")
        elif action == "orchestrator_pause":
            self._orch = replace(self._orch, paused=True)
        elif action == "orchestrator_resume":
            self._orch = replace(self._orch, paused=False)
        elif action == "set_active" and job:
            for j in self._jobs:
                self._set(j.name, "PENDING" if j.name == job else "FINISHED")
        else:
            raise ControlRefused(f"{action} is not scripted")

    def _set(self, name: str, status: str) -> None:
        self._jobs = [
            replace(j, status=JobStatus(status)) if j.name == name else j for j in self._jobs
        ]

    def events(self) -> Iterator[JobEvent]:
        return iter(())

    def close(self) -> None:
        self.closed = True


def running_progress(
    rate_limited: bool = False,
    total: int | None = 5000,
    job: str = "sandbox-jira",
    budget: RateBudget | None = None,
    phase: str = "extract issues",
) -> LiveProgress:
    return LiveProgress(
        job=job,
        run_id=42,
        phase=phase,
        done=1850,
        total=total,
        items_per_second=61.7,
        eta_seconds=51.0 if total else None,
        api_calls=38,
        rate_limit_reset_at=NOW + timedelta(seconds=47) if rate_limited else None,
        started_at=NOW - timedelta(minutes=4),
        budget=budget,
    )
