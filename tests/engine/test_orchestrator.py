"""The orchestrator against real PostgreSQL, on a fake clock with scripted pipelines."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from pulse_console.config import Settings
from pulse_console.engine import store
from pulse_console.engine.clock import FakeClock
from pulse_console.engine.events import JobStatusChanged, RateLimitWait
from pulse_console.engine.orchestrator import Orchestrator, audit_actions
from pulse_console.engine.states import IllegalTransition, JobStatus
from storage.db import Database
from storage.models import JobRun, LogEntry, WorkItem
from tests.engine.conftest import T0, add_jobs
from tests.engine.scripted import BatchLoader, Script, ThreadDispatch, registry_of

MIN = timedelta(minutes=1)


def make(
    database: Database,
    settings: Settings,
    clock: FakeClock,
    scripts: dict[str, Script],
    **kwargs: object,
) -> Orchestrator:
    add_jobs(database, settings.client, list(scripts))
    for script in scripts.values():
        script.advance = clock.set
    return Orchestrator(
        database,
        settings,
        registry_of(scripts),
        clock=clock,
        log_dir=False,
        **kwargs,  # type: ignore[arg-type]
    )


def statuses(orch: Orchestrator) -> dict[str, str]:
    return {job.name: str(job.status) for job in orch.jobs()}


def runs(database: Database) -> list[tuple[str, str]]:
    with database.session() as session:
        return [
            (r.trigger, r.status)
            for r in session.execute(select(JobRun).order_by(JobRun.id)).scalars()
        ]


def test_first_tick_runs_the_chain_and_hands_over(
    database: Database, settings: Settings, clock: FakeClock
) -> None:
    jira, github = Script(), Script()
    orch = make(database, settings, clock, {"jira_sync": jira, "github_sync": github})
    assert statuses(orch) == {"jira_sync": "PENDING", "github_sync": "FINISHED"}
    seen: list[JobStatusChanged] = []
    orch.bus.subscribe(lambda e: seen.append(e) if isinstance(e, JobStatusChanged) else None)

    orch.step()  # tick: jira runs (inline) and hands PENDING to github
    assert statuses(orch) == {"jira_sync": "FINISHED", "github_sync": "PENDING"}
    orch.step()  # github was handed the chain: it starts without waiting for a tick
    assert statuses(orch) == {"jira_sync": "FINISHED", "github_sync": "FINISHED"}
    assert [(e.job, e.status) for e in seen] == [
        ("jira_sync", "RUNNING"),
        ("jira_sync", "FINISHED"),
        ("github_sync", "PENDING"),
        ("github_sync", "RUNNING"),
        ("github_sync", "FINISHED"),
    ]
    assert runs(database) == [("schedule", "FINISHED"), ("schedule", "FINISHED")]
    # next cycle at the next tick, not before
    assert orch.wake_at() == T0 + timedelta(minutes=60)
    assert jira.runs == [T0]


def test_a_simulated_day_runs_the_chain_every_interval(
    database: Database, settings: Settings, clock: FakeClock
) -> None:
    jira = Script(duration=5 * MIN)
    github = Script(duration=10 * MIN)
    orch = make(database, settings, clock, {"jira_sync": jira, "github_sync": github})
    started = time.perf_counter()
    orch.run_until(T0 + timedelta(days=1) - MIN, clock.set)
    elapsed = time.perf_counter() - started
    print(f"\nsimulated day (chain of 2, 60-min ticks): {elapsed * 1000:.0f} ms")
    assert jira.runs == [T0 + timedelta(hours=h) for h in range(24)]
    assert github.runs == [T0 + timedelta(hours=h, minutes=5) for h in range(24)]
    # No time limit asserted: speed belongs to benchmarks, not to tests on shared machines.


def test_fast_retry_timing_to_the_minute_over_a_day(
    database: Database, settings: Settings, clock: FakeClock
) -> None:
    jira = Script(fail_always=True, duration=2 * MIN)
    orch = make(database, settings, clock, {"jira_sync": jira})
    started = time.perf_counter()
    orch.run_until(T0 + timedelta(days=1) - MIN, clock.set)
    elapsed = time.perf_counter() - started
    print(f"\nsimulated day of a failing job (fast retry, then hourly): {elapsed * 1000:.0f} ms")
    minutes = [int((t - T0).total_seconds() // 60) for t in jira.runs]
    # tick at 0; each run fails 2 min in; retried 15 min after each failure, 3 times; then
    # only at the main ticks, every 60 min from the first
    assert minutes[:4] == [0, 17, 34, 51]
    assert minutes[4:] == list(range(60, 24 * 60, 60))
    assert orch.jobs()[0].retry_count == len(minutes) == 27
    assert [t for t, _ in runs(database)][:5] == ["schedule", "retry", "retry", "retry", "retry"]


def test_a_job_whose_retries_are_spent_hands_the_chain_to_the_next_job(
    database: Database, settings: Settings, clock: FakeClock
) -> None:
    jira = Script(fail_always=True)
    github = Script()
    orch = make(database, settings, clock, {"jira_sync": jira, "github_sync": github})
    orch.run_until(T0 + timedelta(hours=2), clock.set)
    minutes = [int((t - T0).total_seconds() // 60) for t in jira.runs]
    # three fast retries, then the chain moves on; next cycles: one retry at its turn
    assert minutes == [0, 15, 30, 45, 60, 120]
    assert [int((t - T0).total_seconds() // 60) for t in github.runs] == [45, 60, 120]
    jobs = {job.name: job for job in orch.jobs()}
    assert jobs["jira_sync"].status == JobStatus.FAILED
    assert (jobs["jira_sync"].status_reason or "").startswith(store.SPENT)
    assert jobs["github_sync"].status == JobStatus.FINISHED


def test_pausing_a_finished_job_is_refused(
    database: Database, settings: Settings, clock: FakeClock
) -> None:
    orch = make(database, settings, clock, {"jira_sync": Script(), "github_sync": Script()})
    orch.run_until(T0 + MIN, clock.set)
    assert statuses(orch) == {"jira_sync": "FINISHED", "github_sync": "FINISHED"}
    result = orch.pause("jira_sync")
    assert result.refused and "FINISHED: nothing to pause" in result.message
    assert statuses(orch)["jira_sync"] == "FINISHED"


def test_success_clears_the_retry_count(
    database: Database, settings: Settings, clock: FakeClock
) -> None:
    jira = Script(fail_first=2)
    orch = make(database, settings, clock, {"jira_sync": jira})
    orch.run_until(T0 + timedelta(hours=2), clock.set)
    minutes = [int((t - T0).total_seconds() // 60) for t in jira.runs]
    assert minutes == [0, 15, 30, 60, 120]
    job = orch.jobs()[0]
    assert (job.status, job.retry_count) == (JobStatus.FINISHED, 0)
    assert [t for t, _ in runs(database)] == ["schedule", "retry", "retry", "schedule", "schedule"]


def trail(database: Database, columns: str, change: str = "") -> list[tuple[object, ...]]:
    """`columns` of the settings' audit rows (of one kind of `change`), oldest first."""
    with database.engine.connect() as conn:
        rows = conn.execute(
            text(f"SELECT {columns} FROM audit_log WHERE action LIKE :a ORDER BY id"),
            {"a": f"settings.{change}%"},
        )
        return [tuple(row) for row in rows]


def test_retry_settings_are_editable_at_run_time_and_audited(
    database: Database, settings: Settings, clock: FakeClock
) -> None:
    jira = Script(fail_always=True)
    orch = make(database, settings, clock, {"jira_sync": jira})
    assert orch.set_setting("retry.interval_minutes", 5, actor="ops").ok
    assert orch.set_setting("retry.max_attempts", 1, actor="ops").ok
    assert orch.set_setting("retry.max_attempts", -1, actor="ops").refused
    orch.run_until(T0 + timedelta(minutes=59), clock.set)
    assert [int((t - T0).total_seconds() // 60) for t in jira.runs] == [0, 5]
    actions = audit_actions(database, orch.client_id)
    # One row per change, the trigger's, carrying the operation (no second "intent" row).
    assert [a for a in actions if a.startswith("setting")] == ["settings.insert"] * 2
    tagged = trail(database, "target, details ->> 'operation', details -> 'new', actor", "insert")
    assert tagged == [
        ("retry.interval_minutes", "setting.set", 5, "ops"),
        ("retry.max_attempts", "setting.set", 1, "ops"),
    ]


def test_rate_limited_job_is_parked_not_failed_and_resumes(
    database: Database, settings: Settings, clock: FakeClock
) -> None:
    jira = Script(rate_limit_once_for=timedelta(minutes=7))
    orch = make(database, settings, clock, {"jira_sync": jira})
    waits: list[RateLimitWait] = []
    orch.bus.subscribe(lambda e: waits.append(e) if isinstance(e, RateLimitWait) else None)
    orch.step()
    job = orch.jobs()[0]
    assert job.status == JobStatus.PENDING
    assert job.parked_until == T0 + timedelta(minutes=7)
    assert job.retry_count == 0
    assert "rate limited by sandbox" in (job.status_reason or "")
    assert waits and waits[0].until == T0 + timedelta(minutes=7)
    assert orch.wake_at() == T0 + timedelta(minutes=7)
    orch.run_until(T0 + timedelta(minutes=30), clock.set)
    assert jira.runs == [T0, T0 + timedelta(minutes=7)]
    assert runs(database) == [("schedule", "PARKED"), ("resume", "FINISHED")]
    with database.session() as session:
        run = session.execute(select(JobRun).order_by(JobRun.id)).scalars().first()
        assert run is not None and run.rate_limit_waits == 1


def test_paused_job_is_never_marked_finished(
    database: Database, settings: Settings, clock: FakeClock
) -> None:
    scripts = {"jira_sync": Script(), "github_sync": Script(), "ado_sync": Script()}
    orch = make(database, settings, clock, scripts)
    orch.step()  # jira_sync runs and hands the chain to github_sync
    assert orch.pause("github_sync").ok
    orch.run_until(T0 + timedelta(hours=3), clock.set)
    assert statuses(orch) == {
        "jira_sync": "FINISHED",
        "github_sync": "PAUSED",
        "ado_sync": "FINISHED",
    }
    assert scripts["github_sync"].runs == []
    assert len(scripts["ado_sync"].runs) == 3  # the chain skips the paused job
    assert orch.set_active("jira_sync").ok
    assert statuses(orch)["github_sync"] == "PAUSED"
    assert orch.set_active("github_sync").refused
    with database.session() as session, pytest.raises(IllegalTransition):
        store.transition(session, orch.client_id, "github_sync", JobStatus.FINISHED, reason="x")


def test_set_active_makes_one_pending_and_the_others_finished(
    database: Database, settings: Settings, clock: FakeClock
) -> None:
    scripts = {"jira_sync": Script(fail_always=True), "github_sync": Script()}
    orch = make(database, settings, clock, scripts)
    orch.step()
    assert statuses(orch) == {"jira_sync": "FAILED", "github_sync": "FINISHED"}
    result = orch.set_active("github_sync")
    assert result.ok, result.message
    assert statuses(orch) == {"jira_sync": "FINISHED", "github_sync": "PENDING"}
    assert orch.set_active("nope").refused


def test_force_start_and_refusals(database: Database, settings: Settings, clock: FakeClock) -> None:
    scripts = {"jira_sync": Script(), "github_sync": Script()}
    orch = make(database, settings, clock, scripts)
    result = orch.start("github_sync")
    assert result.ok and "FINISHED" in result.message
    assert orch.resume("jira_sync").refused  # not paused
    assert orch.stop("jira_sync").refused  # not running
    assert "not running" in orch.stop("jira_sync").message
    assert runs(database) == [("manual", "FINISHED")]
    assert "job.start" in audit_actions(database, orch.client_id)


def test_orchestrator_pause_and_resume(
    database: Database, settings: Settings, clock: FakeClock
) -> None:
    jira = Script()
    orch = make(database, settings, clock, {"jira_sync": jira})
    assert orch.orchestrator_pause(actor="ops").ok
    assert orch.orchestrator_pause(actor="ops").refused
    orch.run_until(T0 + timedelta(hours=3), clock.set)
    assert jira.runs == []
    assert orch.orchestrator_tick().refused
    clock.set(T0 + timedelta(hours=3, minutes=30))
    assert orch.orchestrator_resume(actor="ops").ok
    orch.run_until(T0 + timedelta(hours=5), clock.set)
    assert jira.runs == [T0 + timedelta(hours=h, minutes=30) for h in (3, 4)]
    assert orch.orchestrator_tick().ok
    assert len(jira.runs) == 3
    # Each pause or resume is one row: the setting's change, naming the control.
    assert trail(database, "action, details ->> 'operation'") == [
        ("settings.insert", "orchestrator.pause"),
        ("settings.update", "orchestrator.resume"),
    ]


def test_force_stop_leaves_a_checkpoint_and_resume_completes_without_loss_or_duplicates(
    database: Database, settings: Settings, clock: FakeClock
) -> None:
    add_jobs(database, settings.client, ["loader"])
    loader = BatchLoader(batches=10, size=5, hold_after=4, batch_seconds=0.5)
    registry = registry_of({})
    registry.register("loader", lambda: loader)
    threads = ThreadDispatch()
    orch = Orchestrator(database, settings, registry, clock=clock, dispatch=threads, log_dir=False)
    threads.orchestrator = orch
    assert orch.start("loader").ok
    assert loader.held.wait(10)
    first = orch.stop("loader")
    assert first.ok, first.message
    second = orch.pause("loader")
    assert second.refused and "already pending" in second.message
    assert threads.join(10)
    job = orch.jobs()[0]
    assert (job.status, job.status_reason) == (JobStatus.FAILED, "stopped by operator")
    with database.session() as session:
        assert session.execute(select(func.count()).select_from(WorkItem)).scalar_one() == 20
        run = session.execute(select(JobRun)).scalars().one()
        assert run.status == "CANCELLED"
        assert run.checkpoint_after == {"batches": {"next": 4}}
    # stopped by operator: no fast retry (it waits for the main tick)
    orch.last_tick = T0
    clock.advance(timedelta(minutes=20))
    orch.step()
    assert orch.jobs()[0].status == JobStatus.FAILED

    assert orch.start("loader").ok
    assert threads.join(10)
    job = orch.jobs()[0]
    assert job.status == JobStatus.FINISHED
    with database.session() as session:
        keys = session.execute(select(WorkItem.external_id)).scalars().all()
        assert sorted(map(int, keys)) == list(range(50))
        last = session.execute(select(JobRun).order_by(JobRun.id.desc())).scalars().first()
        assert last is not None
        assert last.checkpoint_before == {"batches": {"next": 4}}
        assert last.records == 30


def test_pause_of_a_running_job_then_resume_from_the_checkpoint(
    database: Database, settings: Settings, clock: FakeClock
) -> None:
    add_jobs(database, settings.client, ["loader"])
    loader = BatchLoader(batches=6, size=2, hold_after=2)
    registry = registry_of({})
    registry.register("loader", lambda: loader)
    threads = ThreadDispatch()
    orch = Orchestrator(database, settings, registry, clock=clock, dispatch=threads, log_dir=False)
    threads.orchestrator = orch
    orch.step()
    assert loader.held.wait(10)
    assert orch.pause("loader").ok
    assert threads.join(10)
    assert orch.jobs()[0].status == JobStatus.PAUSED
    clock.advance(timedelta(hours=5))
    orch.step()
    assert orch.jobs()[0].status == JobStatus.PAUSED  # ticks never touch a paused job
    assert orch.resume("loader").ok
    assert threads.join(10)
    assert orch.jobs()[0].status == JobStatus.FINISHED
    assert [t for t, _ in runs(database)] == ["schedule", "resume"]
    with database.session() as session:
        assert session.execute(select(func.count()).select_from(WorkItem)).scalar_one() == 12


def test_run_logs_go_to_log_entries_and_json_lines_files(
    database: Database, settings: Settings, clock: FakeClock, tmp_path: object
) -> None:
    from pathlib import Path

    log_dir = Path(str(tmp_path)) / "logs"
    add_jobs(database, settings.client, ["jira_sync"])
    orch = Orchestrator(
        database, settings, registry_of({"jira_sync": Script()}), clock=clock, log_dir=log_dir
    )
    orch.step()
    orch.sink.close()
    with database.session() as session:
        rows = session.execute(select(LogEntry).order_by(LogEntry.id)).scalars().all()
    assert [r.message for r in rows][1] == "scripted run ok"
    assert rows[1].extra == {"records": 1}
    assert {r.job for r in rows} == {"jira_sync"} and rows[0].run_id is not None
    lines = (log_dir / "jobs-acme.jsonl").read_text().splitlines()
    assert len(lines) == len(rows) and '"run_id"' in lines[0]


def test_recover_resumes_jobs_left_running_by_a_dead_process(
    database: Database, settings: Settings, clock: FakeClock
) -> None:
    jira = Script()
    orch = make(database, settings, clock, {"jira_sync": jira})
    with database.session() as session:
        store.transition(session, orch.client_id, "jira_sync", JobStatus.RUNNING, reason="x")
        job = store.get_job(session, orch.client_id, "jira_sync")
        store.start_run(session, orch.client_id, job.id, store.Trigger.SCHEDULE, T0, {})
    assert orch.recover() == ["jira_sync"]
    orch.last_tick = T0  # no tick due: the resume does not wait for one
    clock.advance(MIN)
    orch.step()
    assert runs(database) == [("schedule", "INTERRUPTED"), ("resume", "FINISHED")]


def test_a_schedule_decision_taken_on_jobs_that_ran_meanwhile_launches_nothing(
    database: Database, settings: Settings, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two workers decided, one after the other, to start the job the chain was just handed
    to; the first one's run has already finished when the second one's launch comes (its
    thread was slow): that launch sees the job changed and runs nothing."""
    jira, github = Script(), Script()
    orch = make(database, settings, clock, {"jira_sync": jira, "github_sync": github})
    orch.step()  # jira runs and hands the chain to github
    before = orch.jobs()  # what the slower worker decides on: github PENDING, due now
    orch.step()  # the quicker worker: github runs and finishes
    assert runs(database) == [("schedule", "FINISHED")] * 2
    load = store.load_jobs
    stale = iter([before])
    monkeypatch.setattr(store, "load_jobs", lambda *a, **k: next(stale, None) or load(*a, **k))
    decision = orch.step()  # decides on `before`, launches on what the database holds
    assert decision.why == "github_sync ran since this decision (now FINISHED)"
    assert runs(database) == [("schedule", "FINISHED")] * 2 and len(github.runs) == 1
