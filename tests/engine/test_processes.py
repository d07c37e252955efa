"""Across real processes: workers, an attached console, the CLI, SIGTERM and SIGKILL."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text

from pulse_console.config import Settings
from pulse_console.engine import runtime_settings
from pulse_console.engine.controls import Control
from pulse_console.engine.events import Event, JobProgress, JobStatusChanged
from pulse_console.engine.leadership import current_leader
from pulse_console.engine.service import AttachedService
from storage.checkpoints import load_checkpoint
from storage.db import Database
from storage.models import JobRun, WorkItem
from storage.testing import schema_url
from tests.engine.conftest import add_jobs

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def wait_for(predicate: Callable[[], object], timeout: float = 20.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what or predicate}")


def dump(workers: list[WorkerProcess]) -> str:
    return "\n".join(f"{w.name}: {line}" for w in workers for line in w.lines[-30:])


class WorkerProcess:
    def __init__(
        self, url: str, name: str, batches: int, seconds: float, heartbeat: float = 5.0
    ) -> None:
        self.name = name
        self.lines: list[str] = []
        extra = [str(batches), str(seconds), str(heartbeat)]
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.engine.worker_main", url, "acme", name, *extra],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip())

    def events(self) -> list[str]:
        found = []
        for line in list(self.lines):
            with contextlib.suppress(json.JSONDecodeError):
                found.append(json.loads(line).get("event", ""))
        return found

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)


@pytest.fixture
def workers() -> Iterator[list[WorkerProcess]]:
    started: list[WorkerProcess] = []
    yield started
    for worker in started:
        worker.stop()


def cli(url: str, tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    common = ["--database-url", url, "--client", "acme", "--data-dir", str(tmp)]
    return subprocess.run(
        [sys.executable, "-m", "pulse_console.cli", *args, *common],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def job_status(database: Database) -> tuple[str, str | None]:
    with database.engine.connect() as conn:
        row = conn.execute(text("SELECT status, status_reason FROM jobs")).one()
    return row[0], row[1]


def loaded(database: Database) -> list[int]:
    with database.session() as session:
        return sorted(int(k) for k in session.execute(select(WorkItem.external_id)).scalars())


def run_rows(database: Database) -> list[tuple[str, str]]:
    with database.session() as session:
        rows = session.execute(select(JobRun.trigger, JobRun.status).order_by(JobRun.id)).all()
    return [(t, s) for t, s in rows]


def test_worker_and_attached_console_exchange_events_and_controls(
    pg_url: str, engine: Engine, database: Database, tmp_path: Path, workers: list[WorkerProcess]
) -> None:
    url = schema_url(pg_url, engine)
    add_jobs(database, "acme", ["loader"])
    settings = Settings(client="acme", data_dir=tmp_path)
    console = AttachedService(database, settings, actor="console-test")
    with database.session() as session:
        runtime_settings.set_setting(
            session, console.client_id, "orchestrator.paused", True, actor="test"
        )
    worker = WorkerProcess(url, "w1", batches=12, seconds=0.5)
    workers.append(worker)
    wait_for(lambda: current_leader(database, console.client_id) == "w1", what="w1 leads")
    events: list[Event] = []
    listener = console.subscribe(events.append)
    assert listener.ready.wait(10)

    assert console.status().leader == "w1"
    started = console.control(Control.START, "loader")
    assert started.ok, started.message
    wait_for(lambda: any(isinstance(e, JobProgress) for e in events), what="progress")
    first = console.control(Control.STOP, "loader")
    second = console.control(Control.STOP, "loader")
    assert first.ok, first.message
    assert second.refused and "already pending" in second.message
    wait_for(
        lambda: any(isinstance(e, JobStatusChanged) and e.status == "FAILED" for e in events),
        what="FAILED event",
    )
    changes = [(e.job, e.status) for e in events if isinstance(e, JobStatusChanged)]
    assert changes == [("loader", "RUNNING"), ("loader", "FAILED")]
    assert job_status(database) == ("FAILED", "stopped by operator")
    stopped_at = len(loaded(database))
    assert 0 < stopped_at < 60

    # the CLI, attached to the running worker
    listing = cli(url, tmp_path, "jobs", "list", "--json")
    assert listing.returncode == 0, listing.stderr
    assert json.loads(listing.stdout)[0]["status"] == "FAILED"
    refused = cli(url, tmp_path, "jobs", "resume", "loader")
    assert refused.returncode == 2 and "not PAUSED" in refused.stderr
    unknown = cli(url, tmp_path, "jobs", "start", "nope")
    assert unknown.returncode == 2 and "no job 'nope'" in unknown.stderr
    resumed = cli(url, tmp_path, "orchestrator", "resume", "--json")
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout)["mode"] == "attached"
    status = cli(url, tmp_path, "orchestrator", "status", "--json")
    assert json.loads(status.stdout)["orchestrator_paused"] is False
    # resumed orchestrator: the stopped job is retried at the tick (due at once)
    wait_for(lambda: job_status(database)[0] == "RUNNING", what="retry at the tick")
    paused = cli(url, tmp_path, "jobs", "pause", "loader")
    assert paused.returncode == 0, paused.stderr
    wait_for(lambda: job_status(database)[0] == "PAUSED", what="PAUSED")
    resumed_job = cli(url, tmp_path, "jobs", "resume", "loader", "--json")
    assert resumed_job.returncode == 0, resumed_job.stderr
    wait_for(lambda: job_status(database)[0] == "FINISHED", timeout=30, what="FINISHED")
    assert loaded(database) == list(range(60))  # no loss, no duplicates
    assert [t for t, _ in run_rows(database)] == ["manual", "retry", "resume"]
    again = cli(url, tmp_path, "orchestrator", "pause")
    assert again.returncode == 0
    assert cli(url, tmp_path, "orchestrator", "pause").returncode == 2
    listener.stop()

    worker.proc.send_signal(signal.SIGTERM)
    assert worker.proc.wait(15) == 0
    assert "stopped" in worker.events()


def test_two_workers_one_leads_and_the_standby_takes_over_after_sigkill(
    pg_url: str, engine: Engine, database: Database, workers: list[WorkerProcess]
) -> None:
    url = schema_url(pg_url, engine)
    add_jobs(database, "acme", ["loader"])
    console = AttachedService(database, Settings(client="acme"), actor="t")
    leader = WorkerProcess(url, "leader", batches=20, seconds=0.15)
    workers.append(leader)
    wait_for(lambda: current_leader(database, console.client_id) == "leader", what="leader")
    standby = WorkerProcess(url, "standby", batches=20, seconds=0.15)
    workers.append(standby)
    wait_for(lambda: "standby" in standby.events(), what="standby announces itself")

    def progress() -> int:
        with database.engine.connect() as conn:
            state = load_checkpoint(conn, console.client_id, 1, "batches")
        return int(state.get("next", 0))

    with database.engine.connect() as conn:
        integration_id = conn.execute(text("SELECT integration_id FROM jobs")).scalar_one()
    assert integration_id == 1
    wait_for(lambda: progress() >= 4, what="leader loads a few batches")
    assert "leader" not in standby.events()  # only one orchestrator runs the client's jobs
    assert current_leader(database, console.client_id) == "leader"

    os.kill(leader.proc.pid, signal.SIGKILL)
    killed = time.monotonic()
    wait_for(lambda: current_leader(database, console.client_id) == "standby", what="takeover")
    takeover = time.monotonic() - killed
    print(f"\ntakeover after SIGKILL of the leader: {takeover:.2f} s")
    assert takeover < 5
    wait_for(lambda: job_status(database)[0] == "FINISHED", timeout=30, what="FINISHED")
    assert loaded(database) == list(range(100))
    assert run_rows(database) == [("schedule", "INTERRUPTED"), ("resume", "FINISHED")]
    standby.proc.send_signal(signal.SIGTERM)
    assert standby.proc.wait(15) == 0


def test_sigterm_stops_at_a_batch_boundary_and_another_worker_resumes(
    pg_url: str, engine: Engine, database: Database, workers: list[WorkerProcess]
) -> None:
    url = schema_url(pg_url, engine)
    add_jobs(database, "acme", ["loader"])
    first = WorkerProcess(url, "first", batches=20, seconds=0.15)
    workers.append(first)
    wait_for(lambda: len(loaded(database)) >= 15, what="some batches")
    first.proc.send_signal(signal.SIGTERM)
    assert first.proc.wait(15) == 0
    status, reason = job_status(database)
    assert status == "PENDING" and (reason or "").startswith("interrupted")
    kept = len(loaded(database))
    assert kept % 5 == 0 and kept < 100
    assert run_rows(database) == [("schedule", "INTERRUPTED")]
    with database.session() as session:
        run = session.execute(select(JobRun)).scalars().one()
        assert run.checkpoint_after == {"batches": {"next": kept // 5}}

    second = WorkerProcess(url, "second", batches=20, seconds=0.01)
    workers.append(second)
    wait_for(lambda: job_status(database)[0] == "FINISHED", timeout=30, what="FINISHED")
    assert loaded(database) == list(range(100))
    assert run_rows(database)[-1] == ("resume", "FINISHED")
    with database.session() as session:
        assert session.execute(select(func.count()).select_from(WorkItem)).scalar_one() == 100


class Sampler:
    """Samples job_runs and the checkpoint every few milliseconds while a test runs."""

    def __init__(self, database: Database, client_id: int) -> None:
        self.database = database
        self.client_id = client_id
        self.most_running = 0
        self.checkpoints: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            with self.database.engine.connect() as conn:
                running = conn.execute(
                    text(
                        "SELECT coalesce(max(n), 0) FROM (SELECT count(*) AS n FROM job_runs "
                        "WHERE status = 'RUNNING' GROUP BY job_id) per_job"
                    )
                ).scalar_one()
                state = load_checkpoint(conn, self.client_id, 1, "batches")
            self.most_running = max(self.most_running, int(running))
            self.checkpoints.append(int(state.get("next", 0)))
            time.sleep(0.01)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)


def test_a_leader_that_lost_its_lock_mid_run_writes_nothing_more(
    pg_url: str, engine: Engine, database: Database, workers: list[WorkerProcess]
) -> None:
    url = schema_url(pg_url, engine)
    add_jobs(database, "acme", ["loader"])
    console = AttachedService(database, Settings(client="acme"), actor="t")
    # W1's own lock check (its heartbeat) comes too late to save it: only the fence can stop it
    first = WorkerProcess(url, "W1", batches=20, seconds=0.4, heartbeat=120)
    workers.append(first)
    wait_for(lambda: current_leader(database, console.client_id) == "W1", what="W1 leads")
    second = WorkerProcess(url, "W2", batches=20, seconds=0.2)  # its run overlaps W1's
    workers.append(second)
    wait_for(lambda: "standby" in second.events(), what="W2 waits as a standby")
    sampler = Sampler(database, console.client_id)
    try:
        wait_for(lambda: len(loaded(database)) >= 15, what="W1 loads a few batches")
        with database.engine.begin() as conn:
            terminated = conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name = 'pulse-orchestrator W1'"
                )
            ).scalars()
            assert list(terminated) == [True]
        wait_for(lambda: current_leader(database, console.client_id) == "W2", what="W2 leads")
        # W1's run goes on (its batches are slow) while W2 resumes the job from the checkpoint
        wait_for(lambda: job_status(database)[0] == "FINISHED", timeout=30, what="FINISHED")
    finally:
        sampler.stop()
    assert sampler.most_running == 1, dump(workers)  # never two RUNNING runs of the job
    assert sampler.checkpoints == sorted(sampler.checkpoints)  # never regressed
    assert loaded(database) == list(range(100)), dump(workers)  # none lost, none twice
    assert run_rows(database) == [("schedule", "INTERRUPTED"), ("resume", "FINISHED")]
    with database.session() as session:
        last = session.execute(select(JobRun).order_by(JobRun.id.desc())).scalars().first()
        assert last is not None and last.checkpoint_after == {"batches": {"next": 20}}
    assert first.proc.wait(15) == 1, dump(workers)  # its first write found it fenced out
    second.proc.send_signal(signal.SIGTERM)
    assert second.proc.wait(15) == 0
