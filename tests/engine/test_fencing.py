"""Fencing in one process: once another leader took the client, a stale orchestrator and its
running pipeline write nothing more (the multi-process case is in test_processes.py)."""

from __future__ import annotations

from sqlalchemy import func, select

from pulse_console.config import Settings
from pulse_console.engine.clock import FakeClock
from pulse_console.engine.orchestrator import Orchestrator
from pulse_console.engine.runner import ThreadRunner
from pulse_console.engine.states import JobStatus
from storage.checkpoints import load_checkpoint
from storage.db import Database
from storage.fencing import take_epoch
from storage.models import JobRun, WorkItem
from tests.engine.conftest import add_jobs
from tests.engine.scripted import BatchLoader, registry_of


def _orchestrator(
    database: Database, settings: Settings, clock: FakeClock, loader: BatchLoader, holder: str
) -> Orchestrator:
    registry = registry_of({})
    registry.register("loader", lambda: loader)
    with database.engine.begin() as conn:
        client_id = int(
            conn.exec_driver_sql("SELECT id FROM clients WHERE name = 'acme'").scalar_one()
        )
        fence = take_epoch(conn, client_id, holder)
    return Orchestrator(
        database,
        settings,
        registry,
        clock=clock,
        runner=ThreadRunner(),
        log_dir=False,
        fence=fence,
    )


def test_epochs_only_grow_one_per_takeover(database: Database) -> None:
    add_jobs(database, "acme", ["loader"])
    with database.engine.begin() as conn:
        epochs = [take_epoch(conn, 1, f"w{i}").epoch for i in range(3)]
    assert epochs == [1, 2, 3]


def test_a_taken_over_orchestrator_and_its_run_write_nothing_more(
    database: Database, settings: Settings, clock: FakeClock
) -> None:
    add_jobs(database, "acme", ["loader"])
    loader = BatchLoader(batches=10, size=5, hold_after=3, hold_seconds=0.5)
    stale = _orchestrator(database, settings, clock, loader, "old")
    lost: list[bool] = []
    stale.on_lost_leadership = lambda: lost.append(True)
    stale.step()
    assert loader.held.wait(10)
    with database.engine.begin() as conn:
        take_epoch(conn, stale.client_id, "new")  # another orchestrator takes the client over

    assert stale.runner.join(10)  # the run's next batch found the fence and stopped
    assert stale.lost_leadership and lost == [True]
    with database.session() as session:
        assert session.execute(select(func.count()).select_from(WorkItem)).scalar_one() == 15
        run = session.execute(select(JobRun)).scalars().one()
        assert (run.status, run.finished_at) == ("RUNNING", None)  # the new leader's to close
    with database.engine.connect() as conn:
        assert load_checkpoint(conn, stale.client_id, 1, "batches") == {"next": 3}
    assert stale.jobs()[0].status == JobStatus.RUNNING  # no state change by the stale one
    assert stale.step().start is None  # and it starts nothing more


def test_the_new_leader_closes_the_orphaned_run_and_resumes_from_its_checkpoint(
    database: Database, settings: Settings, clock: FakeClock
) -> None:
    add_jobs(database, "acme", ["loader"])
    first = BatchLoader(batches=10, size=5, hold_after=3, hold_seconds=0.5)
    stale = _orchestrator(database, settings, clock, first, "old")
    stale.step()
    assert first.held.wait(10)
    leader = _orchestrator(database, settings, clock, BatchLoader(batches=10, size=5), "new")
    assert leader.recover() == ["loader"]
    assert stale.runner.join(10)
    leader.step()
    assert leader.runner.join(10)
    with database.session() as session:
        assert session.execute(select(func.count()).select_from(WorkItem)).scalar_one() == 50
        rows = session.execute(select(JobRun.trigger, JobRun.status).order_by(JobRun.id)).all()
    assert [tuple(r) for r in rows] == [("schedule", "INTERRUPTED"), ("resume", "FINISHED")]
    assert leader.jobs()[0].status == JobStatus.FINISHED
