"""Operator controls: the vocabulary, when each is refused, and their answers.

`Control` names every job and orchestrator control once; its value is the orchestrator's
method and the console's key-binding argument. `why_not` holds
the refusal rules and their wording: the orchestrator refuses with it, and the Jobs screen,
the command palette and the CLI ask it before sending (they never re-derive the rules).

`ControlResult` is what every control returns, in embedded and attached mode alike: `ok`
(done), `refused` (not allowed now; the message says why and what to do), or neither (it
failed, e.g. no worker answered). The CLI maps them to exit codes 0, 2 and 1.

Every process acts itself, as its own login (engine/service.py): there is no control table
any more; a stop or pause pending for a run is `jobs.cancel_intent` (one per job: a second
request is answered "already pending").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

# Re-exported: the vocabulary lives apart so the CLI parser can load it without SQLAlchemy.
from pulse_console.engine.control_names import Control as Control
from pulse_console.engine.control_names import missing_job as missing_job
from pulse_console.engine.states import JobStatus
from pulse_console.engine.store import JobView, unknown_job


def why_not(
    control: Control,
    job: str | None,
    jobs: Iterable[JobView],
    *,
    paused: bool,
    pending: Mapping[str, str] | None = None,
    seen: str | None = None,
) -> str | None:
    """Why `control` of `job` is refused given the client's jobs and the orchestrator's pause
    (and, in the orchestrator, the stop/pause requests still pending); None when allowed.

    One job runs at a time per client; a PAUSED job only leaves PAUSED by resume; a FINISHED
    job has nothing to pause. `seen` is the status the operator saw when asked to confirm: a
    confirmation given for another state is refused, so it never acts on a changed job.
    """
    missing = missing_job(control, job)
    if missing:
        return missing
    views = list(jobs)
    running = next((j.name for j in views if j.status == JobStatus.RUNNING), None)
    if not control.needs_job:
        return _orchestrator_refusal(control, views, running, paused)
    assert job is not None
    if pending and job in pending:
        return f"a {pending[job]} of {job} is already pending"
    view = next((j for j in views if j.name == job), None)
    if view is None:
        return unknown_job(job, [j.name for j in views])
    status = view.status
    if seen is not None and status != seen:
        return f"{job} is now {status} (it was {seen} when you were asked): nothing was done"
    if control in (Control.START, Control.RESUME, Control.SET_ACTIVE) and running:
        if running == job:
            return f"{job} is already running"
        return (
            f"{running} is running (one job runs at a time per client): try again when it "
            "ends, or stop it first"
        )
    if control is Control.START and status == JobStatus.PAUSED:
        return f"{job} is PAUSED: resume it instead of starting it"
    if control is Control.RESUME and status != JobStatus.PAUSED:
        return f"{job} is {status}, not PAUSED: nothing to resume"
    if control is Control.SET_ACTIVE and status == JobStatus.PAUSED:
        return f"{job} is PAUSED: resume it first"
    if control is Control.STOP and status != JobStatus.RUNNING:
        return f"{job} is {status}, not running"
    if control is Control.PAUSE and status == JobStatus.PAUSED:
        return f"{job} is already PAUSED"
    if control is Control.PAUSE and status == JobStatus.FINISHED:
        return f"{job} is FINISHED: nothing to pause (it waits for its turn in the chain)"
    return None


def _orchestrator_refusal(
    control: Control, jobs: list[JobView], running: str | None, paused: bool
) -> str | None:
    if control is Control.ORCHESTRATOR_PAUSE and paused:
        return "the orchestrator is already paused"
    if control is Control.ORCHESTRATOR_RESUME and not paused:
        return "the orchestrator is already running"
    if control is Control.ORCHESTRATOR_TICK:
        if paused:
            return "the orchestrator is paused: resume it first"
        if running:
            return f"{running} is running: the chain is already going"
        if all(j.status == JobStatus.PAUSED for j in jobs):
            return "no job to start (none exist, or all are PAUSED)"
    return None


@dataclass(frozen=True)
class ControlResult:
    ok: bool
    message: str
    refused: bool = False

    @classmethod
    def done(cls, message: str) -> ControlResult:
        return cls(True, message)

    @classmethod
    def refuse(cls, message: str) -> ControlResult:
        return cls(False, message, refused=True)

    @classmethod
    def fail(cls, message: str) -> ControlResult:
        return cls(False, message)

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 2 if self.refused else 1
