"""Fencing in one process: once another worker took a run over, the worker that lost it and
its running pipeline write nothing more (the multi-process case is in test_processes.py)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from pulse_console.config import Settings
from pulse_console.engine.clock import FakeClock
from pulse_console.engine.orchestrator import Orchestrator
from pulse_console.engine.states import JobStatus
from storage.checkpoints import load_checkpoint
from storage.db import Database
from storage.fencing import Fence, StaleRun
from storage.models import JobRun, WorkItem
from tests.engine.conftest import add_jobs
from tests.engine.scripted import BatchLoader, ThreadDispatch, registry_of


def _worker(
    database: Database, settings: Settings, clock: FakeClock, loader: BatchLoader, name: str
) -> tuple[Orchestrator, ThreadDispatch]:
    registry = registry_of({})
    registry.register("loader", lambda: loader)
    threads = ThreadDispatch()
    orch = Orchestrator(
        database,
        settings,
        registry,
        clock=clock,
        dispatch=threads,
        log_dir=False,
        worker_name=name,
    )
    threads.orchestrator = orch
    return orch, threads


def test_a_closed_run_fails_its_fence(database: Database) -> None:
    add_jobs(database, "acme", ["loader"])
    with database.session() as session:
        run = JobRun(client_id=1, job_id=1, trigger="schedule", status="RUNNING")
        session.add(run)
        session.flush()
        Fence(run.id).check(session)  # RUNNING: passes
        run.status = "INTERRUPTED"
        session.flush()
        with pytest.raises(StaleRun):
            Fence(run.id).check(session)


def test_a_run_taken_over_by_another_worker_writes_nothing_more(
    database: Database, settings: Settings, clock: FakeClock
) -> None:
    add_jobs(database, "acme", ["loader"])
    first = BatchLoader(batches=10, size=5, hold_after=3, hold_seconds=0.5)
    stale, stale_threads = _worker(database, settings, clock, first, "old")
    stale.step()
    assert first.held.wait(10)
    with database.session() as session:
        run_id = session.execute(select(JobRun.id)).scalar_one()
    # the old worker stopped beating: its task is retried and another worker takes the run
    new, _ = _worker(database, settings, clock, BatchLoader(batches=10, size=5), "new")
    assert new.run(run_id)
    assert stale_threads.join(10)  # the old run's next batch found the fence and stopped
    with database.session() as session:
        assert session.execute(select(func.count()).select_from(WorkItem)).scalar_one() == 50
        rows = session.execute(
            select(JobRun.trigger, JobRun.status, JobRun.worker).order_by(JobRun.id)
        ).all()
    assert [tuple(r) for r in rows] == [
        ("schedule", "INTERRUPTED", "old"),
        ("resume", "FINISHED", "new"),
    ]
    with database.engine.connect() as conn:
        assert load_checkpoint(conn, stale.client_id, 1, "batches") == {"next": 10}
    assert new.jobs()[0].status == JobStatus.FINISHED


def test_a_run_left_running_with_no_task_is_recovered_and_resumed(
    database: Database, settings: Settings, clock: FakeClock
) -> None:
    add_jobs(database, "acme", ["loader"])
    first = BatchLoader(batches=10, size=5, hold_after=3, hold_seconds=5)
    stale, stale_threads = _worker(database, settings, clock, first, "old")
    stale.step()
    assert first.held.wait(10)
    # "old" never registered in pool_workers and has no procrastinate task: a dead process
    leader, threads = _worker(database, settings, clock, BatchLoader(batches=10, size=5), "new")
    assert leader.recover() == ["loader"]
    first.hold_seconds = 0
    assert stale_threads.join(10)
    leader.step()
    assert threads.join(10)
    with database.session() as session:
        assert session.execute(select(func.count()).select_from(WorkItem)).scalar_one() == 50
        rows = session.execute(select(JobRun.trigger, JobRun.status).order_by(JobRun.id)).all()
    assert [tuple(r) for r in rows] == [("schedule", "INTERRUPTED"), ("resume", "FINISHED")]
    assert leader.jobs()[0].status == JobStatus.FINISHED
