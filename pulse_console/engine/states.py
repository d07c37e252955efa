"""The job state machine: every status change goes through `check_transition`.

States and the transitions of DESIGN.md, plus the few the orchestrator needs to keep its
promises (each one named below with the reason). An illegal transition raises
`IllegalTransition` with a message an operator can act on; it is never silently applied.

    PENDING  → RUNNING   a tick, retry, resume or manual start begins a run
    RUNNING  → FINISHED  the run succeeded
    RUNNING  → FAILED    the run failed, or the operator force-stopped it
    RUNNING  → PAUSED    the operator paused it (the run stops at a batch boundary)
    PAUSED   → RUNNING   resume: a new run continues from the checkpoint
    FAILED   → PENDING   retry (fast retry, or the main tick after retries are spent)
    FINISHED → PENDING   the chain hands over to this job, or "set active" picks it
    PENDING  → FINISHED  "set active" picked another job
    FAILED   → FINISHED  "set active" picked another job
    RUNNING  → PENDING   parked by a rate limit, or interrupted (worker shutdown/crash):
                         not a failure; the job resumes from its checkpoint
    PENDING  → PAUSED    the operator paused a job that was waiting
    FAILED   → PAUSED    the operator paused a failing job (stops the retries)
    FINISHED → PAUSED    the operator took a job out of the chain
    FAILED   → RUNNING   a manual start of a failed job (skips waiting for the retry)
    FINISHED → RUNNING   a manual start of a finished job

PAUSED has exactly one way out (resume), so a paused job is never turned into FINISHED (or
anything else) by what happens to its neighbours.
"""

from __future__ import annotations

from enum import StrEnum


class JobStatus(StrEnum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    FINISHED = "FINISHED"
    FAILED = "FAILED"
    PAUSED = "PAUSED"


class RunStatus(StrEnum):
    """Outcome of one `job_runs` row."""

    RUNNING = "RUNNING"
    FINISHED = "FINISHED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"  # force stop or pause: stopped at a batch boundary
    PARKED = "PARKED"  # rate-limited: resumes after the reset time
    INTERRUPTED = "INTERRUPTED"  # worker shut down or died; resumes from the checkpoint


class Trigger(StrEnum):
    SCHEDULE = "schedule"
    RETRY = "retry"
    MANUAL = "manual"
    RESUME = "resume"


S = JobStatus
TRANSITIONS: dict[JobStatus, frozenset[JobStatus]] = {
    S.PENDING: frozenset({S.RUNNING, S.FINISHED, S.PAUSED}),
    S.RUNNING: frozenset({S.FINISHED, S.FAILED, S.PAUSED, S.PENDING}),
    S.FINISHED: frozenset({S.PENDING, S.PAUSED, S.RUNNING}),
    S.FAILED: frozenset({S.PENDING, S.FINISHED, S.PAUSED, S.RUNNING}),
    S.PAUSED: frozenset({S.RUNNING}),
}

_HINTS: dict[tuple[JobStatus, JobStatus], str] = {
    (S.PAUSED, S.FINISHED): "a paused job is never marked finished; resume it first",
    (S.PAUSED, S.PENDING): "a paused job only leaves PAUSED by `resume`",
    (S.PAUSED, S.FAILED): "a paused job only leaves PAUSED by `resume`",
    (S.PENDING, S.FAILED): "only a run can fail; start the job first",
    (S.FINISHED, S.FAILED): "only a run can fail; start the job first",
}


class IllegalTransition(Exception):
    """A status change the state machine does not allow; `str()` says why."""

    def __init__(self, job: str, current: JobStatus, target: JobStatus) -> None:
        hint = _HINTS.get((current, target))
        if current == target:
            hint = f"it is already {current}"
        allowed = ", ".join(sorted(TRANSITIONS[current])) or "nothing"
        message = f"{job}: cannot go from {current} to {target}"
        message += f" ({hint})" if hint else f" (from {current} it can go to {allowed})"
        super().__init__(message)
        self.job = job
        self.current = current
        self.target = target


def can_transition(current: JobStatus, target: JobStatus) -> bool:
    return target in TRANSITIONS[current]


def check_transition(job: str, current: JobStatus | str, target: JobStatus | str) -> None:
    """Raise `IllegalTransition` unless `current → target` is allowed."""
    cur, tgt = JobStatus(current), JobStatus(target)
    if not can_transition(cur, tgt):
        raise IllegalTransition(job, cur, tgt)
