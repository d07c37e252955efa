"""The orchestrator of one client: decides (policy.py), records (store.py), runs (runner.py),
and tells (events.py).

It is driven from outside: `step()` takes one decision at the clock's current time and
returns when to look again; the scheduler (scheduler.py, APScheduler in real time) or a test
(a fake clock, in milliseconds) calls it. Every method is thread-safe (one re-entrant lock),
so controls may arrive from any thread while a run executes on a runner thread.

Decisions recorded here (see also policy.py):

- **Force stop ends the job FAILED with reason "stopped by operator"** (its run is recorded
  CANCELLED). Going "back to the prior state" would make the stopped job PENDING again, so the
  next tick would silently restart what the operator just stopped, and the history would not
  show that the run did not complete. FAILED is honest and visible; fast retry skips a job
  stopped by the operator (it waits for the main tick, or a manual start/set-active). The
  pipeline stops at its next request or batch boundary; its checkpoint is the one committed
  with its last batch, so a later run resumes with no loss or duplicates.
- **Pause of a running job** stops it the same way and leaves it PAUSED; resume starts a new
  run (trigger resume) from the checkpoint. A PAUSED job only leaves PAUSED by resume.
- **Refusals** are `controls.why_not` on this orchestrator's state (its jobs, its pause, its
  pending stop/pause requests): the console and the CLI ask the same rules before sending.
- **One control at a time per job**: while a stop or pause waits for the run to reach a batch
  boundary, any further control of that job is answered "already pending".
- **Only one run at a time per client**: a manual start, resume or set-active while another
  job runs is refused with the name of the running job.
- **Orchestrator pause** stops automatic starts (ticks, retries, hand-overs, rate-limit
  resumes); a running job continues, and manual starts still work.
- **Rate limits** park the job PENDING until the reset time (run recorded PARKED); the retry
  count is untouched: it is not a failure.
- **Fencing**: every write of job and run state (and, through `RunContext.fence`, every batch
  a pipeline commits) checks this orchestrator's leadership epoch in its own transaction. Once
  another orchestrator took the client over, the first write that finds the epoch stale raises
  `StaleLeader`: the run stops with nothing more written (its job and run rows belong to the
  new leader, which closed the run INTERRUPTED), and `lost_leadership` tells the host to stop.
- **Shutdown** (SIGTERM) cancels the running job at a batch boundary and leaves it PENDING
  "interrupted", so the next orchestrator (this one restarted, or a standby) resumes it at once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.errors import Cancelled, RateLimited
from connectors.http.cancel import CancelToken
from connectors.secret import redact
from pulse_console.config import Settings
from pulse_console.engine import joblog, runtime_settings, store
from pulse_console.engine import policy as plan
from pulse_console.engine.clock import Clock, system_clock
from pulse_console.engine.controls import Control, ControlResult, missing_job, why_not
from pulse_console.engine.events import (
    Event,
    EventBus,
    Health,
    JobProgress,
    JobStatusChanged,
    RateLimitWait,
)
from pulse_console.engine.joblog import JobLogSink
from pulse_console.engine.runner import InlineRunner, Runner
from pulse_console.engine.runtime_settings import Policy, SettingError
from pulse_console.engine.states import IllegalTransition, JobStatus, RunStatus, Trigger
from pulse_console.engine.store import (
    INTERRUPTED,
    PAUSED_BY_OPERATOR,
    SPENT,
    STOPPED_BY_OPERATOR,
    JobView,
)
from pulse_console.pipelines.base import IntegrationRef, Progress, RunContext, RunResult
from pulse_console.pipelines.registry import PipelineRegistry
from storage.audit_context import acting
from storage.db import Database
from storage.fencing import Fence, StaleLeader, check_fence
from storage.models import AuditLog, Integration
from storage.tenancy import require_client

_log = logging.getLogger("pulse.engine")
SecretLookup = Callable[[str], str | None]
MAX_REASON = 500


@dataclass
class _ActiveRun:
    job: str
    job_id: int
    run_id: int
    trigger: Trigger
    integration: IntegrationRef
    checkpoint: dict[str, Any]
    token: CancelToken = field(default_factory=CancelToken)
    intent: str | None = None  # stop | pause | shutdown


@dataclass
class _Outcome:
    kind: str  # finished | parked | cancelled | failed | lost (leadership)
    result: RunResult | None = None
    error: BaseException | None = None


class Orchestrator:
    def __init__(
        self,
        database: Database,
        settings: Settings,
        registry: PipelineRegistry,
        *,
        client: str | None = None,
        clock: Clock = system_clock,
        runner: Runner | None = None,
        bus: EventBus | None = None,
        secret: SecretLookup | None = None,
        worker_name: str = "embedded",
        log_dir: Path | bool | None = True,
        fence: Fence | None = None,
    ) -> None:
        self.database = database
        self.settings = settings
        self.registry = registry
        self.client = client or settings.client
        self.clock = clock
        self.runner: Runner = runner or InlineRunner()
        self.bus = bus or EventBus()
        self.secret: SecretLookup = secret or (lambda name: None)
        self.worker_name = worker_name
        self.fence = fence  # None: nobody else can drive this client (tests, simulations)
        self.lost_leadership = False
        self.on_lost_leadership: Callable[[], None] = lambda: None  # the host stops
        self.last_tick: datetime | None = None
        self.on_wake: Callable[[], None] = lambda: None
        self._lock = threading.RLock()
        self._active: dict[str, _ActiveRun] = {}
        self._pending: dict[str, str] = {}
        with database.session() as session:
            self.client_id = require_client(session, self.client)
        directory = settings.log_dir if log_dir is True else (log_dir or None)
        self.log_dir: Path | None = directory
        self.sink = JobLogSink(
            database,
            self.client_id,
            self.client,
            bus=self.bus,
            log_dir=directory,
            level=settings.logging.level,
            max_file_mb=settings.logging.max_file_mb,
        )
        self.prune_logs(self.policy())

    @contextmanager
    def _writes(self) -> Iterator[Session]:
        """A session for job and run state: it commits only while this orchestrator leads."""
        try:
            with self.database.session() as session:
                check_fence(session, self.fence)
                yield session
        except StaleLeader:
            self._lost()
            raise

    def _lost(self) -> None:
        if not self.lost_leadership:
            self.lost_leadership = True
            self.on_lost_leadership()

    # --- reading -------------------------------------------------------------------------

    def policy(self) -> Policy:
        with self.database.session() as session:
            return runtime_settings.load_policy(session, self.client_id, self.settings)

    def jobs(self) -> list[JobView]:
        with self.database.session() as session:
            return store.load_jobs(session, self.client_id)

    def running_job(self) -> str | None:
        with self._lock:
            return next(iter(self._active), None)

    def next_tick_at(self, policy: Policy | None = None) -> datetime:
        return plan.next_tick(self.last_tick, self.clock(), policy or self.policy())

    def health(self) -> Health:
        policy = self.policy()
        return Health(
            client=self.client,
            worker=self.worker_name,
            leader=True,
            orchestrator_paused=policy.paused,
            running_job=self.running_job(),
            next_tick_at=None if policy.paused else self.next_tick_at(policy),
            at=self.clock(),
        )

    # --- set-up --------------------------------------------------------------------------

    def ensure_jobs(self) -> list[str]:
        """Create the job rows of the client's integrations (see store.ensure_jobs)."""
        with self._writes() as session:
            return store.ensure_jobs(session, self.client_id, self.registry.order)

    def recover(self) -> list[str]:
        """After gaining the client: runs left RUNNING by a dead or stopped process are closed
        INTERRUPTED and their jobs made PENDING, to resume from their checkpoints at once."""
        now = self.clock()
        changed: list[Event] = []
        with self._lock, self._writes() as session:
            if self._active:
                return []
            store.close_open_runs(
                session, self.client_id, now, "interrupted: its orchestrator stopped"
            )
            for job in store.load_jobs(session, self.client_id, retired=True):
                if job.status == JobStatus.RUNNING:
                    reason = f"{INTERRUPTED}: the previous run stopped; resumes from its checkpoint"
                    store.transition(
                        session,
                        self.client_id,
                        job.name,
                        JobStatus.PENDING,
                        reason=reason,
                        next_run_at=now,
                        cancel_requested=False,
                    )
                    changed.append(self._changed(job.name, "PENDING", "RUNNING", reason, None))
        self._publish(changed)
        return [event.job for event in changed if isinstance(event, JobStatusChanged)]

    # --- scheduling ----------------------------------------------------------------------

    def step(self) -> plan.Decision:
        """Take one decision at the current time and act on it."""
        with self._lock:
            now = self.clock()
            if self.lost_leadership:
                return plan.Decision(why="lost the leadership of the client")
            with self.database.session() as session:
                policy = runtime_settings.load_policy(session, self.client_id, self.settings)
                jobs = store.load_jobs(session, self.client_id)
            decision = plan.decide(jobs, now, policy, last_tick=self.last_tick)
            if not policy.paused and plan.tick_due(self.last_tick, now, policy):
                self.last_tick = now
                self.prune_logs(policy)
            try:
                self._show_next_runs(jobs, now, policy)
                if decision.start is not None and decision.trigger is not None:
                    _log.info(
                        "starting %s (%s: %s)", decision.start, decision.trigger, decision.why
                    )
                    self._launch(decision.start, decision.trigger, promote=decision.promote)
            except StaleLeader as exc:
                _log.warning("%s", exc)
                return plan.Decision(why="lost the leadership of the client")
            return decision

    def wake_at(self) -> datetime | None:
        """When the next decision is due (None while a job runs: its end wakes us)."""
        with self._lock:
            if self._active:
                return None
            now = self.clock()
            policy = self.policy()
            if policy.paused:
                return None
            decision = plan.decide(self.jobs(), now, policy, last_tick=self.last_tick)
            if decision.start is not None:
                return now
            tick = plan.next_tick(self.last_tick, now, policy)
            return min(decision.wake_at, tick) if decision.wake_at else tick

    def run_until(self, end: datetime, advance: Callable[[datetime], None]) -> int:
        """Simulation: step, then jump the clock to the next wake time, until `end`.

        For tests and what-if runs with an `InlineRunner`; returns the number of steps.
        """
        steps = 0
        while True:
            self.step()
            steps += 1
            wake = self.wake_at()
            if wake is None or wake > end:
                return steps
            if wake > self.clock():
                advance(wake)

    def _show_next_runs(self, jobs: list[JobView], now: datetime, policy: Policy) -> None:
        tick_at = plan.next_tick(self.last_tick, now, policy)
        current = plan.holder(jobs, policy)
        first = next((j for j in jobs if j.status != JobStatus.PAUSED), None)
        updates: dict[str, datetime | None] = {}
        for job in jobs:
            shown = plan.display_next_run(job, now, policy, tick_at)
            if current is None and first is not None and job.name == first.name:
                shown = tick_at
            if policy.paused:
                shown = None if job.status != JobStatus.PENDING else job.next_run_at
            if shown != job.next_run_at and job.status != JobStatus.RUNNING:
                updates[job.name] = shown
        if updates:
            with self._writes() as session:
                for name, when in updates.items():
                    store.set_fields(session, self.client_id, name, next_run_at=when)

    def prune_logs(self, policy: Policy) -> tuple[int, int]:
        """Apply log retention to the client's log rows and files alike (joblog.prune)."""
        return joblog.prune(
            self.database,
            self.client_id,
            self.client,
            self.log_dir,
            policy.log_retention_days,
            self.clock(),
        )

    # --- running -------------------------------------------------------------------------

    def _launch(self, name: str, trigger: Trigger, *, promote: bool = False) -> None:
        now = self.clock()
        with self._lock:
            with self._writes() as session:
                job = store.get_job(session, self.client_id, name, lock=True)
                first_status = job.status
                if promote and job.status != JobStatus.PENDING:
                    store.transition(
                        session, self.client_id, name, JobStatus.PENDING, reason=str(trigger)
                    )
                before = store.integration_checkpoints(session, self.client_id, job.integration_id)
                store.transition(
                    session,
                    self.client_id,
                    name,
                    JobStatus.RUNNING,
                    reason=f"{trigger} run",
                    last_run_at=now,
                    next_run_at=None,
                    parked_until=None,
                    cancel_requested=False,
                )
                run_id = store.start_run(session, self.client_id, job.id, trigger, now, before)
                integration = self._integration(session, job.integration_id, name)
                active = _ActiveRun(
                    name, job.id, run_id, trigger, integration, dict(job.checkpoint or {})
                )
            self._active[name] = active
        self._publish([self._changed(name, "RUNNING", first_status, f"{trigger} run", run_id)])
        self.runner.submit(name, lambda: self._execute(active))

    def _integration(self, session: Any, integration_id: int | None, job: str) -> IntegrationRef:
        row = session.get(Integration, integration_id) if integration_id is not None else None
        if row is None:
            return IntegrationRef(id=0, name=job, type="none", base_url="")
        return IntegrationRef(
            id=row.id, name=row.name, type=row.type, base_url=row.base_url, config=row.config
        )

    def _execute(self, active: _ActiveRun) -> None:
        log = self.sink.logger(active.job, active.run_id)
        ctx = RunContext(
            client_id=self.client_id,
            client=self.client,
            integration=active.integration,
            database=self.database,
            run_id=active.run_id,
            cancel=active.token,
            report=lambda progress: self._progress(active, progress),
            log=log,
            secret=self.secret,
            clock=self.clock,
            checkpoint=active.checkpoint,
            fence=self.fence,
        )
        log.info("run %d of %s started (%s)", active.run_id, active.job, active.trigger)
        try:
            if active.integration.id == 0:
                raise RuntimeError(f"{active.job} has no integration: it cannot sync anything")
            # the job syncs its own integration, with the pipeline of that integration's type
            result = self.registry.create(active.integration.type).run(ctx)
            outcome = _Outcome("finished", result=result)
        except RateLimited as exc:
            outcome = _Outcome("parked", error=exc)
        except Cancelled as exc:
            outcome = _Outcome("cancelled", error=exc)
        except StaleLeader as exc:
            self._lost()
            outcome = _Outcome("lost", error=exc)
        except Exception as exc:
            log.error("run %d failed: %s", active.run_id, exc, exc_info=exc)
            outcome = _Outcome("failed", error=exc)
        try:
            if outcome.kind == "lost":
                raise StaleLeader(str(outcome.error))
            self._complete(active, outcome, log)
        except StaleLeader as exc:
            # The new leader owns the job and the run row now: write nothing, just let go.
            log.warning("run %d of %s abandoned: %s", active.run_id, active.job, exc)
            with self._lock:
                self._active.pop(active.job, None)
                self._pending.pop(active.job, None)
        except Exception:
            _log.exception("could not record the end of run %d", active.run_id)
            with self._lock:
                self._active.pop(active.job, None)
                self._pending.pop(active.job, None)
        self.on_wake()

    def _progress(self, active: _ActiveRun, progress: Progress) -> None:
        now = self.clock()
        self.bus.publish(
            JobProgress(
                self.client,
                active.job,
                active.run_id,
                progress.phase,
                progress.done,
                progress.total,
                progress.api_calls,
                progress.message,
                now,
                progress.budget_remaining,
                progress.budget_limit,
                progress.budget_reset_at,
            )
        )
        if progress.rate_limit_until is not None:
            self.bus.publish(
                RateLimitWait(
                    self.client,
                    active.job,
                    active.run_id,
                    progress.rate_limit_until,
                    active.integration.type,
                    now,
                )
            )

    def _complete(
        self, active: _ActiveRun, outcome: _Outcome, log: logging.LoggerAdapter[logging.Logger]
    ) -> None:
        now = self.clock()
        name, intent = active.job, active.intent
        result = outcome.result or RunResult()
        events: list[Event] = []
        with self._lock:
            with self._writes() as session:
                job = store.get_job(session, self.client_id, name, lock=True)
                after = store.integration_checkpoints(session, self.client_id, job.integration_id)
                counters = {
                    "records": result.records,
                    "api_calls": result.api_calls,
                    "retries": result.retries,
                    "rate_limit_waits": result.rate_limit_waits,
                    "stats": result.stats,
                    "checkpoint_after": after or result.checkpoint,
                }

                def move(target: JobStatus, reason: str, **fields: Any) -> None:
                    previous = store.transition(
                        session, self.client_id, name, target, reason=reason[:MAX_REASON], **fields
                    )
                    events.append(self._changed(name, target, previous, reason, active.run_id))

                if outcome.kind == "finished":
                    store.finish_run(session, active.run_id, RunStatus.FINISHED, now, **counters)
                    if intent == "pause":
                        move(JobStatus.PAUSED, f"{PAUSED_BY_OPERATOR} (its run had completed)")
                    else:
                        move(
                            JobStatus.FINISHED,
                            f"finished: {result.records} records",
                            retry_count=0,
                            checkpoint=result.checkpoint or job.checkpoint,
                            cancel_requested=False,
                        )
                        events.extend(self._hand_over(session, name, now))
                elif outcome.kind == "parked" and intent is None:
                    assert isinstance(outcome.error, RateLimited)
                    until = _reset_time(outcome.error, now)
                    counters["rate_limit_waits"] = result.rate_limit_waits + 1
                    reason = f"rate limited by {outcome.error.source} until {until:%H:%M:%S} UTC"
                    store.finish_run(
                        session, active.run_id, RunStatus.PARKED, now, error=reason, **counters
                    )
                    move(JobStatus.PENDING, reason, parked_until=until, next_run_at=until)
                    events.append(
                        RateLimitWait(
                            self.client, name, active.run_id, until, outcome.error.source, now
                        )
                    )
                elif outcome.kind in ("cancelled", "parked") and intent == "stop":
                    store.finish_run(
                        session,
                        active.run_id,
                        RunStatus.CANCELLED,
                        now,
                        error=STOPPED_BY_OPERATOR,
                        **counters,
                    )
                    move(JobStatus.FAILED, STOPPED_BY_OPERATOR, cancel_requested=False)
                elif outcome.kind in ("cancelled", "parked") and intent == "pause":
                    store.finish_run(
                        session,
                        active.run_id,
                        RunStatus.CANCELLED,
                        now,
                        error=PAUSED_BY_OPERATOR,
                        **counters,
                    )
                    move(JobStatus.PAUSED, PAUSED_BY_OPERATOR, cancel_requested=False)
                elif outcome.kind in ("cancelled", "parked") and intent == "shutdown":
                    reason = f"{INTERRUPTED}: worker shut down; resumes from its checkpoint"
                    store.finish_run(
                        session, active.run_id, RunStatus.INTERRUPTED, now, error=reason, **counters
                    )
                    move(JobStatus.PENDING, reason, next_run_at=now, cancel_requested=False)
                else:
                    error = outcome.error
                    message = redact(str(error)) if error is not None else "unknown error"
                    store.finish_run(
                        session, active.run_id, RunStatus.FAILED, now, error=message, **counters
                    )
                    policy = runtime_settings.load_policy(session, self.client_id, self.settings)
                    failed = replace(
                        store.view(job), status=JobStatus.FAILED, retry_count=job.retry_count + 1
                    )
                    spent = plan.retries_spent(failed, policy)
                    move(
                        JobStatus.FAILED,
                        f"{SPENT}: {message}" if spent else message,
                        retry_count=failed.retry_count,
                        cancel_requested=False,
                    )
                    if spent:
                        events.extend(self._hand_over(session, name, now))
            self._active.pop(name, None)
            self._pending.pop(name, None)
        log.info("run %d of %s ended: %s", active.run_id, name, outcome.kind)
        self.sink.flush()
        self._publish(events)

    def _hand_over(self, session: Any, name: str, now: datetime) -> list[Event]:
        jobs = store.load_jobs(session, self.client_id)
        nxt = plan.next_in_chain(jobs, name)
        if nxt is None or nxt.status not in (JobStatus.FINISHED, JobStatus.FAILED):
            return []
        reason = f"handed over by {name}"
        store.transition(
            session,
            self.client_id,
            nxt.name,
            JobStatus.PENDING,
            reason=reason,
            next_run_at=now,
        )
        return [self._changed(nxt.name, "PENDING", str(nxt.status), reason, None)]

    # --- controls ------------------------------------------------------------------------

    def control(
        self, control: Control, job: str | None = None, *, actor: str = "operator"
    ) -> ControlResult:
        """Run one operator control: `control.value` names the method below that does it."""
        missing = missing_job(control, job)
        if missing:
            before = self._snapshot(job)
            result = ControlResult.refuse(missing)
            return self._audit(actor, control.audit_action, job, result, before)
        do: Callable[..., ControlResult] = getattr(self, control.value)
        return do(job, actor=actor) if control.needs_job else do(actor=actor)

    def why_not(self, control: Control, job: str | None) -> str | None:
        """Why `control` is refused now (controls.why_not on this orchestrator's state)."""
        with self._lock:
            return why_not(
                control, job, self.jobs(), paused=self.policy().paused, pending=self._pending
            )

    def _refused(
        self, control: Control, job: str | None, actor: str, before: dict[str, Any]
    ) -> ControlResult | None:
        reason = self.why_not(control, job)
        if reason is None:
            return None
        return self._audit(actor, control.audit_action, job, ControlResult.refuse(reason), before)

    def start(self, job: str, *, actor: str = "operator") -> ControlResult:
        """Force start: run `job` now (not while another job of the client runs)."""
        with self._lock:
            before = self._snapshot(job)
            refused = self._refused(Control.START, job, actor, before)
            if refused:
                return refused
            self._launch(job, Trigger.MANUAL)
            return self._audit(actor, "job.start", job, self._after_start(job), before)

    def stop(self, job: str, *, actor: str = "operator") -> ControlResult:
        """Force stop: the run stops at its next request or batch boundary and ends FAILED."""
        return self._interrupt(Control.STOP, job, actor)

    def pause(self, job: str, *, actor: str = "operator") -> ControlResult:
        with self._lock:
            before = self._snapshot(job)
            refused = self._refused(Control.PAUSE, job, actor, before)
            if refused:
                return refused
            if job in self._active:
                return self._interrupt(Control.PAUSE, job, actor)
            try:
                with self._writes() as session:
                    previous = store.transition(
                        session, self.client_id, job, JobStatus.PAUSED, reason=PAUSED_BY_OPERATOR
                    )
            except IllegalTransition as exc:
                return self._audit(actor, "job.pause", job, ControlResult.refuse(str(exc)), before)
        self._publish([self._changed(job, "PAUSED", previous, PAUSED_BY_OPERATOR, None)])
        return self._audit(actor, "job.pause", job, ControlResult.done(f"{job} is PAUSED"), before)

    def resume(self, job: str, *, actor: str = "operator") -> ControlResult:
        """Resume a PAUSED job: a new run continues from its checkpoint."""
        with self._lock:
            before = self._snapshot(job)
            refused = self._refused(Control.RESUME, job, actor, before)
            if refused:
                return refused
            self._launch(job, Trigger.RESUME)
            return self._audit(actor, "job.resume", job, self._after_start(job), before)

    def set_active(self, job: str, *, actor: str = "operator") -> ControlResult:
        """Make `job` the one PENDING; every other job FINISHED, except PAUSED ones."""
        events: list[Event] = []
        with self._lock:
            before = self._snapshot(job)
            refused = self._refused(Control.SET_ACTIVE, job, actor, before)
            if refused:
                return refused
            reason = f"set active: {job}"
            with self._writes() as session:
                for view in store.load_jobs(session, self.client_id):
                    if view.name == job and view.status != JobStatus.PENDING:
                        target = JobStatus.PENDING
                    elif view.name != job and view.status in (JobStatus.PENDING, JobStatus.FAILED):
                        target = JobStatus.FINISHED
                    else:
                        continue
                    fields: dict[str, Any] = {"parked_until": None, "next_run_at": None}
                    if view.name == job:
                        fields["retry_count"] = 0
                    store.transition(
                        session, self.client_id, view.name, target, reason=reason, **fields
                    )
                    events.append(self._changed(view.name, target, view.status, reason, None))
        self._publish(events)
        self.on_wake()
        return self._audit(
            actor,
            "job.set_active",
            job,
            ControlResult.done(f"{job} is PENDING; it starts at the next tick"),
            before,
        )

    def orchestrator_tick(self, *, actor: str = "operator") -> ControlResult:
        """Start the chain now: the job holding the chain (or the first one) runs at once."""
        control = Control.ORCHESTRATOR_TICK
        with self._lock:
            before = self._snapshot(None)
            refused = self._refused(control, None, actor, before)
            if refused:
                return refused
            jobs = self.jobs()
            target = plan.holder(jobs, self.policy()) or next(
                j for j in jobs if j.status != JobStatus.PAUSED
            )
            self.last_tick = self.clock()
            self._launch(target.name, Trigger.MANUAL)
            result = self._after_start(target.name)
            return self._audit(actor, control.audit_action, None, result, before)

    def orchestrator_pause(self, *, actor: str = "operator") -> ControlResult:
        return self._set_paused(Control.ORCHESTRATOR_PAUSE, actor)

    def orchestrator_resume(self, *, actor: str = "operator") -> ControlResult:
        return self._set_paused(Control.ORCHESTRATOR_RESUME, actor)

    def set_setting(self, key: str, value: Any, *, actor: str = "operator") -> ControlResult:
        """Change a run-time setting for this client (validated, audited)."""
        try:
            with self.database.session() as session:
                clean = runtime_settings.set_setting(
                    session, self.client_id, key, value, actor=actor
                )
        except SettingError as exc:
            return ControlResult.refuse(str(exc))
        self._publish([self.health()])
        self.on_wake()
        return ControlResult.done(f"{key} = {clean!r}")

    def shutdown(self, timeout: float = 30.0) -> bool:
        """Stop any run at its next batch boundary (left PENDING to resume), and wait."""
        with self._lock:
            for active in self._active.values():
                active.intent = "shutdown"
                active.token.cancel()
        done = self.runner.join(timeout)
        self.sink.close()
        return done

    # --- helpers -------------------------------------------------------------------------

    def _set_paused(self, control: Control, actor: str) -> ControlResult:
        refused = self._refused(control, None, actor, self._snapshot(None))
        if refused:
            return refused
        paused = control is Control.ORCHESTRATOR_PAUSE
        # The settings row is the change's one audit row: it names the control asked for.
        with acting(operation=control.audit_action, actor=actor):
            self.set_setting("orchestrator.paused", paused, actor=actor)
        word = "paused: no job starts on its own" if paused else "resumed"
        return ControlResult.done(f"orchestrator {word}")

    def _interrupt(self, control: Control, job: str, actor: str) -> ControlResult:
        with self._lock:
            before = self._snapshot(job)
            refused = self._refused(control, job, actor, before)
            if refused:
                return refused
            active = self._active.get(job)
            if active is None:  # RUNNING in the table, but not a run of this orchestrator
                result = ControlResult.refuse(f"{job} is not run here")
                return self._audit(actor, control.audit_action, job, result, before)
            active.intent = control.value
            self._pending[job] = control.value
            active.token.cancel()
            with self._writes() as session:
                store.set_fields(session, self.client_id, job, cancel_requested=True)
        outcome = "FAILED (stopped by operator)" if control is Control.STOP else "PAUSED"
        return self._audit(
            actor,
            control.audit_action,
            job,
            ControlResult.done(
                f"{control.value} requested: {job} stops at its next request or batch boundary "
                f"and ends {outcome}"
            ),
            before,
        )

    def _after_start(self, job: str) -> ControlResult:
        status = self._status(job)
        if status == JobStatus.RUNNING:
            return ControlResult.done(f"{job} started")
        if status == JobStatus.FAILED:
            views = {v.name: v for v in self.jobs()}
            return ControlResult.fail(f"{job} ran and FAILED: {views[job].status_reason}")
        return ControlResult.done(f"{job} ran: now {status}")

    def _status(self, job: str) -> JobStatus:
        with self.database.session() as session:
            return JobStatus(store.get_job(session, self.client_id, job).status)

    def _snapshot(self, job: str | None) -> dict[str, Any]:
        """The state a control may change: each job's status (and cancel request), the pause."""
        state: dict[str, Any] = {"orchestrator.paused": self.policy().paused}
        with self.database.session() as session:
            for view in store.load_jobs(session, self.client_id):
                state[view.name] = str(view.status)
                if view.name == job and view.cancel_requested:
                    state[view.name] += " (stop requested)"
        return state

    def _audit(
        self,
        actor: str,
        action: str,
        target: str | None,
        result: ControlResult,
        before: dict[str, Any],
    ) -> ControlResult:
        """Record a control with what it changed: the snapshot keys that differ (or, when
        nothing changed, the target's state as it stands)."""
        after = self._snapshot(target)
        changed = [key for key in after if before.get(key) != after[key]]
        keys = changed or [target or "orchestrator.paused"]
        with self.database.session() as session:
            session.add(
                AuditLog(
                    client_id=self.client_id,
                    actor=actor,
                    action=action,
                    target=target,
                    details={"ok": result.ok, "refused": result.refused, "message": result.message},
                    before={key: before.get(key) for key in keys},
                    after={key: after.get(key) for key in keys},
                )
            )
        return result

    def _changed(
        self,
        job: str,
        status: str,
        previous: str | None,
        reason: str | None,
        run_id: int | None,
    ) -> JobStatusChanged:
        return JobStatusChanged(
            self.client, job, str(status), str(previous), reason, run_id, self.clock()
        )

    def _publish(self, events: list[Event]) -> None:
        for event in events:
            self.bus.publish(event)


def _reset_time(exc: RateLimited, now: datetime) -> datetime:
    if exc.reset_at is not None and exc.reset_at > now:
        return exc.reset_at
    if exc.retry_after is not None:
        return now + timedelta(seconds=max(exc.retry_after, 1.0))
    return now + timedelta(minutes=1)


def audit_actions(database: Database, client_id: int) -> list[str]:
    """The audit trail's actions for a client, oldest first (for tests and the console)."""
    with database.session() as session:
        return list(
            session.execute(
                select(AuditLog.action).where(AuditLog.client_id == client_id).order_by(AuditLog.id)
            ).scalars()
        )
