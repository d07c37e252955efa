"""The orchestrator of one client: decides (policy.py), records (store.py), defers runs to
the pool (queue.py), executes the runs a pool worker hands it, and tells (events.py).

Any process may hold an `Orchestrator` for a client — a pool worker, a console, the CLI, the
API: nobody leads a client. `step()` takes one decision at the clock's current time (a pool
worker calls it for its clients every tick, holding the client's `schedule_ticks` row so the
pool decides once per tick; a test calls it with a fake clock). A run it starts is marked
RUNNING and deferred as a procrastinate task in one transaction; whichever worker takes the
task calls `run(run_id)`. Without `dispatch` (simulations) `run` is called at once, inline.
Every method is thread-safe (one re-entrant lock).

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
- **Refusals** are `controls.why_not` on the client's state in the database (its jobs, the
  pause, the stop/pause requests pending in `jobs.cancel_intent`): the console, the CLI and
  the API ask the same rules.
- **One control at a time per job**: while a stop or pause waits for the run to reach a batch
  boundary, any further control of that job is answered "already pending".
- **Only one run at a time per client**: a manual start, resume or set-active while another
  job runs is refused with the name of the running job; a launch re-checks it under the
  client's transaction lock, and the task's procrastinate lock (`client:<id>`) keeps two
  workers from ever executing two runs of a client at once.
- **Stop and pause** set `jobs.cancel_intent` and ask procrastinate to abort the task; the
  worker executing it sees the abort and cancels the run's token, so the pipeline stops at
  its next request or batch boundary wherever it runs.
- **Orchestrator pause** stops automatic starts (ticks, retries, hand-overs, rate-limit
  resumes); a running job continues, and manual starts still work.
- **Rate limits** park the job PENDING until the reset time (run recorded PARKED); the retry
  count is untouched: it is not a failure.
- **Fencing**: every write a run makes (its end, and through `RunContext.fence` every batch
  a pipeline commits) checks in its own transaction that the run is still RUNNING. When a
  worker stops beating, another worker takes the run over (closes it INTERRUPTED, opens a new
  run from the checkpoint); the first worker's next write raises `StaleRun` and it stops
  with nothing more written.
- **Shutdown** (SIGTERM) cancels this process's runs at a batch boundary and leaves them
  PENDING "interrupted", so another worker's next tick resumes them at once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from connectors.errors import Cancelled, RateLimited
from connectors.http.cancel import CancelToken
from connectors.secret import redact
from pulse_console.config import Settings
from pulse_console.engine import joblog, queue, runtime_settings, store
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
from storage.fencing import Fence, StaleRun, check_fence
from storage.models import AuditLog, Integration, Job, JobRun, ScheduleTick
from storage.tenancy import require_client

_log = logging.getLogger("pulse.engine")
SecretLookup = Callable[[str], str | None]
Dispatch = Callable[[Session, queue.DeferredRun], int]
ShouldAbort = Callable[[], bool]
MAX_REASON = 500
# Runs of one client are decided under this transaction lock (with the client id as key).
_LAUNCH_LOCK = 0x50554C52


class Busy(RuntimeError):
    """Another job of the client started meanwhile (another process launched it)."""


@dataclass
class _ActiveRun:
    job: str
    job_id: int
    run_id: int
    trigger: Trigger
    integration: IntegrationRef
    checkpoint: dict[str, Any]
    token: CancelToken = field(default_factory=CancelToken)
    intent: str | None = None  # shutdown (this process stops); stop | pause are in the DB

    @property
    def fence(self) -> Fence:
        return Fence(self.run_id)


@dataclass
class _Outcome:
    kind: str  # finished | parked | cancelled | failed | lost (the run was taken over)
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
        dispatch: Dispatch | None = None,
        bus: EventBus | None = None,
        secret: SecretLookup | None = None,
        worker_name: str = "embedded",
        log_dir: Path | bool | None = True,
    ) -> None:
        self.database = database
        self.settings = settings
        self.registry = registry
        self.client = client or settings.client
        self.clock = clock
        self.dispatch = dispatch  # None: runs execute inline (simulations)
        self.bus = bus or EventBus()
        self.secret: SecretLookup = secret or (lambda name: None)
        self.worker_name = worker_name
        self.on_wake: Callable[[], None] = lambda: None
        self._lock = threading.RLock()
        self._active: dict[str, _ActiveRun] = {}
        with database.session() as session:
            self.client_id = require_client(session, self.client)
        directory = settings.log_dir if log_dir is True else (log_dir or None)
        self.log_dir: Path | None = directory
        self._sink: JobLogSink | None = None  # made by the first run (a thread of its own)

    @property
    def sink(self) -> JobLogSink:
        with self._lock:
            if self._sink is None:
                self._sink = JobLogSink(
                    self.database,
                    self.client_id,
                    self.client,
                    bus=self.bus,
                    log_dir=self.log_dir,
                    level=self.settings.logging.level,
                    max_file_mb=self.settings.logging.max_file_mb,
                )
            return self._sink

    def close(self) -> None:
        """Flush and close the run logs (nothing to do when no run was executed here)."""
        with self._lock:
            sink, self._sink = self._sink, None
        if sink is not None:
            sink.close()

    @contextmanager
    def _writes(self, fence: Fence | None = None) -> Iterator[Session]:
        """A session for job and run state; with a run's fence, it commits only while the
        run is still this worker's (StaleRun otherwise)."""
        with self.database.session() as session:
            check_fence(session, fence)
            yield session

    @property
    def last_tick(self) -> datetime | None:
        """When the pool last ticked this client's schedule (`schedule_ticks`)."""
        with self.database.session() as session:
            return session.execute(
                select(ScheduleTick.last_tick).where(ScheduleTick.client_id == self.client_id)
            ).scalar()

    @last_tick.setter
    def last_tick(self, when: datetime | None) -> None:
        with self.database.session() as session:
            self._record_tick(session, when)

    def _record_tick(self, session: Session, when: datetime | None) -> None:
        stmt = insert(ScheduleTick).values(
            client_id=self.client_id, last_tick=when, ticked_by=self.worker_name
        )
        session.execute(
            stmt.on_conflict_do_update(
                index_elements=[ScheduleTick.client_id],
                set_={"last_tick": stmt.excluded.last_tick, "ticked_by": stmt.excluded.ticked_by},
            )
        )

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
        """Create the job rows of the client's integrations (see store.ensure_jobs); every
        console hears of each new job."""
        with self._writes() as session:
            created = store.ensure_jobs(session, self.client_id, self.registry.order)
            views = {v.name: v for v in store.load_jobs(session, self.client_id)} if created else {}
        self._publish(
            [
                self._changed(name, str(views[name].status), None, "new integration", None)
                for name in created
                if name in views
            ]
        )
        return created

    def recover(self) -> list[str]:
        """Runs left RUNNING with no live task (their process died before the pool, or the
        task is gone) are closed INTERRUPTED and their jobs made PENDING, to resume from their
        checkpoints at once. A run whose worker died while its task was `doing` is taken over
        by the task's retry instead (`run`)."""
        now = self.clock()
        changed: list[Event] = []
        with self._lock, self._writes() as session:
            self._launch_lock(session)
            for job in store.load_jobs(session, self.client_id, retired=True):
                if job.status != JobStatus.RUNNING or job.name in self._active:
                    continue
                # Read again under the job's row lock: its run may have ended since the list
                # was read (its end commits without the launch lock), and a job that just
                # FINISHED must not be made PENDING and run again.
                now_status = session.execute(
                    select(Job.status).where(Job.id == job.id).with_for_update()
                ).scalar()
                if now_status != JobStatus.RUNNING:
                    continue
                runs = session.execute(
                    select(JobRun).where(
                        JobRun.job_id == job.id, JobRun.status == RunStatus.RUNNING
                    )
                ).scalars()
                beating = self._beating_workers(session)
                live = [
                    r
                    for r in runs
                    if queue.task_status(session, r.task_id) in queue.LIVE or r.worker in beating
                ]
                if live:  # queued, or executed by a worker that still beats
                    continue
                store.close_job_runs(session, job.id, now, "interrupted: its orchestrator stopped")
                reason = f"{INTERRUPTED}: the previous run stopped; resumes from its checkpoint"
                store.transition(
                    session,
                    self.client_id,
                    job.name,
                    JobStatus.PENDING,
                    reason=reason,
                    next_run_at=now,
                    cancel_requested=False,
                    cancel_intent=None,
                )
                changed.append(self._changed(job.name, "PENDING", "RUNNING", reason, None))
        self._publish(changed)
        return [event.job for event in changed if isinstance(event, JobStatusChanged)]

    def _beating_workers(self, session: Session) -> set[str]:
        stall = self.settings.pool.stall_seconds
        rows = session.execute(
            text(
                "SELECT name FROM pool_workers WHERE heartbeat >= now() - make_interval(secs => :s)"
            ),
            {"s": stall},
        ).scalars()
        return {str(name) for name in rows}

    # --- scheduling ----------------------------------------------------------------------

    def step(self) -> plan.Decision:
        """Take one decision at the current time and act on it (the pool's once per tick:
        it decides holding the client's `schedule_ticks` row, skipped while another worker
        holds it; a launch re-checks under the client's launch lock)."""
        with self._lock:
            now = self.clock()
            with self.database.session() as session:
                session.execute(
                    insert(ScheduleTick)
                    .values(client_id=self.client_id)
                    .on_conflict_do_nothing(index_elements=[ScheduleTick.client_id])
                )
            with self.database.session() as session:
                row = session.execute(
                    select(ScheduleTick)
                    .where(ScheduleTick.client_id == self.client_id)
                    .with_for_update(skip_locked=True)
                ).scalar()
                if row is None:
                    return plan.Decision(why="another worker is deciding for this client")
                policy = runtime_settings.load_policy(session, self.client_id, self.settings)
                jobs = store.load_jobs(session, self.client_id)
                last_tick = row.last_tick
                decision = plan.decide(jobs, now, policy, last_tick=last_tick)
                if not policy.paused and plan.tick_due(last_tick, now, policy):
                    row.last_tick, row.ticked_by = now, self.worker_name
                    last_tick = now
                    self.prune_logs(policy)
                self._show_next_runs(jobs, now, policy, last_tick)
            if decision.start is not None and decision.trigger is not None:
                _log.info("starting %s (%s: %s)", decision.start, decision.trigger, decision.why)
                seen = next((j for j in jobs if j.name == decision.start), None)
                try:
                    self._launch(
                        decision.start, decision.trigger, promote=decision.promote, seen=seen
                    )
                except (Busy, queue.AlreadyQueued) as exc:
                    return plan.Decision(why=str(exc))
            return decision

    def wake_at(self) -> datetime | None:
        """When the next decision is due (None while a job runs: its end wakes us)."""
        with self._lock:
            jobs = self.jobs()
            if any(job.status == JobStatus.RUNNING for job in jobs):
                return None
            now = self.clock()
            policy = self.policy()
            if policy.paused:
                return None
            last_tick = self.last_tick
            decision = plan.decide(jobs, now, policy, last_tick=last_tick)
            if decision.start is not None:
                return now
            tick = plan.next_tick(last_tick, now, policy)
            return min(decision.wake_at, tick) if decision.wake_at else tick

    def run_until(self, end: datetime, advance: Callable[[datetime], None]) -> int:
        """Simulation: step, then jump the clock to the next wake time, until `end`.

        For tests and what-if runs with no `dispatch` (runs inline); returns the number of steps.
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

    def _show_next_runs(
        self, jobs: list[JobView], now: datetime, policy: Policy, last_tick: datetime | None
    ) -> None:
        tick_at = plan.next_tick(last_tick, now, policy)
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

    def _launch_lock(self, session: Session) -> None:
        """Serialize the decisions that start or close runs of this client (any process)."""
        session.execute(
            text("SELECT pg_advisory_xact_lock(:k, :c)"), {"k": _LAUNCH_LOCK, "c": self.client_id}
        )

    def _launch(
        self, name: str, trigger: Trigger, *, promote: bool = False, seen: JobView | None = None
    ) -> None:
        """Mark `name` RUNNING with a new run and defer its task, in one transaction. A
        schedule decision passes the job as it `seen` it: the launch is refused if the job
        changed since (another worker ran it meanwhile, and it may have finished already)."""
        now = self.clock()
        with self._lock, self._writes() as session:
            self._launch_lock(session)
            running = [
                j.name
                for j in store.load_jobs(session, self.client_id)
                if j.status == JobStatus.RUNNING
            ]
            if running:
                raise Busy(f"{running[0]} is running (one job runs at a time per client)")
            job = store.get_job(session, self.client_id, name, lock=True)
            if seen is not None and (job.status, job.last_run_at) != (
                seen.status,
                seen.last_run_at,
            ):
                raise Busy(f"{name} ran since this decision (now {job.status})")
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
                cancel_intent=None,
            )
            run_id = store.start_run(session, self.client_id, job.id, trigger, now, before)
            if self.dispatch is not None:
                source = self._integration(session, job.integration_id, name).type
                deferred = queue.DeferredRun(
                    self.client_id, self.client, job.id, name, run_id, source, str(trigger)
                )
                task_id = self.dispatch(session, deferred)
                session.get_one(JobRun, run_id).task_id = task_id
        self._publish([self._changed(name, "RUNNING", first_status, f"{trigger} run", run_id)])
        if self.dispatch is None:
            self.run(run_id)

    def _integration(self, session: Any, integration_id: int | None, job: str) -> IntegrationRef:
        row = session.get(Integration, integration_id) if integration_id is not None else None
        if row is None:
            return IntegrationRef(id=0, name=job, type="none", base_url="")
        return IntegrationRef(
            id=row.id, name=row.name, type=row.type, base_url=row.base_url, config=row.config
        )

    def run(self, run_id: int, should_abort: ShouldAbort | None = None) -> bool:
        """Execute run `run_id` here (a pool worker's task): claim it, run its pipeline, record
        its end. A run another worker had started (that worker stopped beating and the task
        was retried) is taken over: closed INTERRUPTED, and a new run resumes the job from its
        checkpoint. Returns False when there was nothing to run (closed meanwhile)."""
        now = self.clock()
        events: list[Event] = []
        with self._lock, self._writes() as session:
            self._launch_lock(session)
            row = session.get(JobRun, run_id, with_for_update=True)
            if row is None or row.status != RunStatus.RUNNING:
                return False
            job = session.get_one(Job, row.job_id)
            if row.worker is not None and row.worker != self.worker_name:
                reason = (
                    f"{INTERRUPTED}: worker {row.worker} stopped; taken over by {self.worker_name}"
                )
                store.finish_run(session, row.id, RunStatus.INTERRUPTED, now, error=reason)
                before = store.integration_checkpoints(session, self.client_id, job.integration_id)
                task_id = row.task_id
                run_id = store.start_run(
                    session, self.client_id, job.id, Trigger.RESUME, now, before
                )
                row = session.get_one(JobRun, run_id)
                row.task_id = task_id
                events.append(self._changed(job.name, "RUNNING", "RUNNING", reason, run_id))
            row.worker, row.started_at = self.worker_name, now  # started: queued until now
            integration = self._integration(session, job.integration_id, job.name)
            active = _ActiveRun(
                job.name,
                job.id,
                run_id,
                Trigger(row.trigger),
                integration,
                dict(job.checkpoint or {}),
            )
            self._active[job.name] = active
        self._publish(events)
        self._execute(active, should_abort)
        return True

    def _watch_abort(self, active: _ActiveRun, should_abort: ShouldAbort) -> threading.Event:
        """Cancel the run's token when the pool asks to abort its task (stop, pause)."""
        done = threading.Event()

        def watch() -> None:
            while not done.wait(0.1):
                if should_abort():
                    active.token.cancel()
                    return

        threading.Thread(target=watch, name=f"abort-{active.run_id}", daemon=True).start()
        return done

    def _execute(self, active: _ActiveRun, should_abort: ShouldAbort | None = None) -> None:
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
            fence=active.fence,
        )
        log.info(
            "run %d of %s started (%s) on %s",
            active.run_id,
            active.job,
            active.trigger,
            self.worker_name,
        )
        watching = self._watch_abort(active, should_abort) if should_abort else None
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
        except StaleRun as exc:
            outcome = _Outcome("lost", error=exc)
        except Exception as exc:
            log.error("run %d failed: %s", active.run_id, exc, exc_info=exc)
            outcome = _Outcome("failed", error=exc)
        finally:
            if watching is not None:
                watching.set()
        self._finish(active, outcome, log)

    def _finish(
        self, active: _ActiveRun, outcome: _Outcome, log: logging.LoggerAdapter[logging.Logger]
    ) -> None:
        try:
            if outcome.kind == "lost":
                raise StaleRun(str(outcome.error))
            self._complete(active, outcome, log)
        except StaleRun as exc:
            # Another worker took the run over: its job and run rows are that worker's now.
            log.warning("run %d of %s abandoned: %s", active.run_id, active.job, exc)
        except Exception:
            _log.exception("could not record the end of run %d", active.run_id)
        finally:
            with self._lock:
                self._active.pop(active.job, None)
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
        name = active.job
        result = outcome.result or RunResult()
        events: list[Event] = []
        with self._lock, self._writes(active.fence) as session:
            job = store.get_job(session, self.client_id, name, lock=True)
            # stop | pause asked by an operator (anywhere), else shutdown of this process;
            # an abort nobody asked for through the job is a shutdown too (resumes).
            intent = job.cancel_intent or active.intent
            if intent is None and outcome.kind == "cancelled":
                intent = "shutdown"
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
            elif outcome.kind in ("cancelled", "parked") and intent in ("stop", "pause"):
                # An operator's stop fails the job, a pause parks it; both end the run CANCELLED.
                status, reason = (
                    (JobStatus.FAILED, STOPPED_BY_OPERATOR)
                    if intent == "stop"
                    else (JobStatus.PAUSED, PAUSED_BY_OPERATOR)
                )
                store.finish_run(
                    session, active.run_id, RunStatus.CANCELLED, now, error=reason, **counters
                )
                move(status, reason, cancel_requested=False)
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
            store.set_fields(
                session, self.client_id, name, cancel_intent=None, cancel_requested=False
            )
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
        """Why `control` is refused now (controls.why_not on the client's state)."""
        with self._lock:
            return why_not(
                control, job, self.jobs(), paused=self.policy().paused, pending=self.pending()
            )

    def pending(self) -> dict[str, str]:
        """The stop or pause requests that wait for their run's next batch boundary."""
        with self.database.session() as session:
            rows = session.execute(
                select(Job.name, Job.cancel_intent).where(
                    Job.client_id == self.client_id, Job.cancel_intent.is_not(None)
                )
            ).all()
        return {name: str(intent) for name, intent in rows}

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
            if job in self._active or self._status(job) == JobStatus.RUNNING:
                return self._interrupt(Control.PAUSE, job, actor)  # wherever the run is
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
        deadline = time.monotonic() + timeout
        while self._active and time.monotonic() < deadline:
            time.sleep(0.05)
        self.close()
        return not self._active

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
            with self._writes() as session:
                self._launch_lock(session)
                row = store.get_job(session, self.client_id, job, lock=True)
                if row.status != JobStatus.RUNNING:  # it ended meanwhile
                    result = ControlResult.refuse(f"{job} is {row.status}, not running")
                    return self._audit(actor, control.audit_action, job, result, before)
                row.cancel_intent, row.cancel_requested = control.value, True
                run = session.execute(
                    select(JobRun)
                    .where(JobRun.job_id == row.id, JobRun.status == RunStatus.RUNNING)
                    .order_by(JobRun.id.desc())
                    .limit(1)
                ).scalar()
                task = queue.abort(session, run.task_id) if run and run.task_id else None
                queued = None
                if run is not None and task == "cancelled":  # no worker had taken it yet
                    integration = self._integration(session, row.integration_id, job)
                    queued = _ActiveRun(job, row.id, run.id, Trigger(run.trigger), integration, {})
            active = self._active.get(job)
            if active is not None:  # run here: no need to wait for the pool's abort
                active.token.cancel()
        if queued is not None:
            self._finish(queued, _Outcome("cancelled"), self.sink.logger(job, queued.run_id))
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
