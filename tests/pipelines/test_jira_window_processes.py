"""A full Jira sync whose windows run in window processes (the sync talks HTTP to a served
sandbox): every issue once, the requests counted, one rate gate shared with the processes,
cancellation, a lost process, a SIGKILLed sync, bad bodies quarantined, and the setting."""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from connectors.errors import Cancelled
from connectors.http import RateLimitPolicy
from connectors.http.cancel import CancelToken
from connectors.jira import jira_gate
from connectors.sandbox.credentials import DEMO_JIRA
from connectors.sandbox.faults import FaultInjector, FaultScenario, Latency, Trigger
from connectors.sandbox.jira import JiraSimulator
from connectors.sandbox.org import Org
from connectors.sandbox.server import SandboxServer
from pulse_console.pipelines.base import Progress, RunResult
from pulse_console.pipelines.jira.extract import JiraSyncError
from pulse_console.pipelines.jira.sync import JiraSync
from storage.db import Database
from storage.testing import login_url
from tests.pipelines.crash_trials import clear_synced_rows, schema_of
from tests.pipelines.harness import (
    FAST_RETRY,
    MemorySecrets,
    add_integration,
    context,
    expected,
    stored,
)
from tests.pipelines.test_jira_sync_crash import SIGKILL_TRIALS, assert_exactly_the_org

ROOT = Path(__file__).resolve().parents[2]
WINDOWED = {"page_size": 25, "windows": 3, "window_issues": 60}


class Served:
    """An org's simulator (real clock) on a socket, counting requests; ``hook`` runs before
    each one."""

    def __init__(self, org: Org, scenario: FaultScenario | None = None) -> None:
        self.org = org
        self.injector = FaultInjector(scenario, mutate=org.apply)
        self.simulator = JiraSimulator(org, DEMO_JIRA, self.injector)
        self.requests = 0
        self.at_once = 0
        self.most_at_once = 0
        self.lock = threading.Lock()
        self.hook: Any = None

    def handle(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            self.requests += 1
            self.at_once += 1
            self.most_at_once = max(self.most_at_once, self.at_once)
        try:
            if self.hook is not None:
                self.hook(request)
            return self.simulator.handle(request)
        finally:
            with self.lock:
                self.at_once -= 1


@pytest.fixture
def small() -> Iterator[tuple[Served, str]]:
    served = Served(Org(7, "small"))
    with SandboxServer({"jira": served.handle}) as server:
        yield served, server.base_urls["jira"]


def served_sync(
    database: Database,
    secrets: MemorySecrets,
    *,
    progress: list[Progress] | None = None,
    cancel: CancelToken | None = None,
) -> RunResult:
    options = {
        "retry": FAST_RETRY,
        "rate_limit": RateLimitPolicy(max_wait_seconds=120, default_wait_seconds=1),
    }
    ctx = context(database, secrets, progress=progress, cancel=cancel)
    return JiraSync(http_options=options).run(ctx)


def window_children() -> list[multiprocessing.process.BaseProcess]:
    return [p for p in multiprocessing.active_children() if p.name.startswith("jira-window")]


def test_windows_in_processes_store_every_issue_once(
    database: Database, small: tuple[Served, str]
) -> None:
    served, url = small
    secrets = add_integration(database, config=WINDOWED, base_url=url)

    result = served_sync(database, secrets)

    assert result.stats["window_processes"] == 3
    assert stored(database) == expected(served.org)
    assert result.api_calls == served.requests  # the processes' requests are counted
    assert window_children() == []  # stopped with the run
    gate = jira_gate(url, DEMO_JIRA.email)
    assert gate.acquire(max_wait=0) and gate.acquire(max_wait=0)  # no slot left taken
    gate.release()
    gate.release()


def test_window_processes_off_keeps_the_chains_in_threads(
    database: Database, small: tuple[Served, str]
) -> None:
    served, url = small
    secrets = add_integration(
        database, config={**WINDOWED, "window_processes": False}, base_url=url
    )

    result = served_sync(database, secrets)

    assert result.stats["window_processes"] == 0
    assert stored(database) == expected(served.org)


def test_cancel_stops_every_window_process_and_the_next_run_resumes(
    database: Database, small: tuple[Served, str]
) -> None:
    served, url = small
    secrets = add_integration(database, config={**WINDOWED, "reconcile": False}, base_url=url)
    cancel = CancelToken()

    class Stop(list[Progress]):
        def append(self, progress: Progress) -> None:
            if progress.phase == "loading":
                cancel.cancel()  # after the first committed pages

    with pytest.raises(Cancelled):
        served_sync(database, secrets, progress=Stop(), cancel=cancel)
    assert window_children() == []
    with database.engine.connect() as conn:
        committed = conn.execute(text("SELECT count(*) FROM work_items")).scalar_one()
    assert 0 < committed < served.org.issue_count

    served_sync(database, secrets)

    assert_exactly_the_org(database, served.org)


def test_a_lost_window_process_fails_the_run_clearly_and_the_next_run_resumes(
    database: Database, small: tuple[Served, str]
) -> None:
    served, url = small
    secrets = add_integration(database, config=WINDOWED, base_url=url)
    killed: list[int] = []

    def kill_one(request: httpx.Request) -> None:
        if served.requests >= 40 and not killed:
            children = window_children()
            if children and children[0].pid is not None:
                killed.append(children[0].pid)
                os.kill(children[0].pid, signal.SIGKILL)

    served.hook = kill_one
    with pytest.raises(JiraSyncError, match="window process"):
        served_sync(database, secrets)
    assert killed and window_children() == []
    served.hook = None

    served_sync(database, secrets)

    assert_exactly_the_org(database, served.org)


def test_the_window_processes_share_the_accounts_in_flight_limit(database: Database) -> None:
    """Three window processes, an account allowed two requests at once: the server never
    sees more than two (each process takes its slots from the sync's one gate)."""
    org = Org(7, "small")
    served = Served(org, FaultScenario(latency=Latency(fixed_ms=5)))
    with SandboxServer({"jira": served.handle}) as server:
        config = {**WINDOWED, "max_in_flight": 2}
        secrets = add_integration(database, config=config, base_url=server.base_urls["jira"])

        result = served_sync(database, secrets)

    assert result.stats["window_processes"] == 3
    assert served.most_at_once == 2  # at once, never more
    assert stored(database) == expected(org)


def test_bad_bodies_seen_by_window_processes_are_quarantined(database: Database) -> None:
    org = Org(7, "small")
    served = Served(org, FaultScenario(seed=3, malformed=Trigger(every=13)))
    with SandboxServer({"jira": served.handle}) as server:
        secrets = add_integration(database, config=WINDOWED, base_url=server.base_urls["jira"])

        result = served_sync(database, secrets)

    with database.engine.connect() as conn:
        kept = conn.execute(text("SELECT count(*) FROM quarantined_payloads")).scalar_one()
    assert kept == served.injector.counters.malformed == result.stats["quarantined"] > 0
    assert stored(database) == expected(org)


@pytest.mark.slow
def test_sigkilled_sync_with_window_processes_resumes_to_the_same_rows(
    database: Database, pg_url: str
) -> None:
    """A child process syncing over HTTP, its windows in processes of its own, is SIGKILLed
    after a random number of requests (its window processes lose their link and exit);
    running the sync again leaves exactly the org, each row once."""
    org = Org(3, "tiny")
    served = Served(org)
    config = {"page_size": 10, "windows": 4, "window_issues": 10}
    with SandboxServer({"jira": served.handle}) as server:
        url = server.base_urls["jira"]
        secrets = add_integration(database, config=config, base_url=url)
        schema = schema_of(database.engine)
        command = [
            *(sys.executable, "-m", "tests.pipelines.crash_child"),
            *(login_url(pg_url, database.engine), schema, "3", "0", "served"),
        ]

        def child(kill_after: int) -> subprocess.CompletedProcess[str]:
            served.requests = 0
            with subprocess.Popen(
                command,
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            ) as proc:

                def kill(request: httpx.Request) -> None:
                    if kill_after and served.requests >= kill_after:
                        os.kill(proc.pid, signal.SIGKILL)

                served.hook = kill
                out, err = proc.communicate(timeout=120)
                served.hook = None
                return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)

        clear_synced_rows(database.engine)
        whole = child(0)
        assert whole.returncode == 0, whole.stderr[-2000:]
        total = served.requests
        rng = random.Random(21)
        for _ in range(SIGKILL_TRIALS):
            clear_synced_rows(database.engine)
            kill_after = rng.randrange(1, total + 1)
            killed = child(kill_after)
            assert killed.returncode == -signal.SIGKILL, (kill_after, killed.stderr[-2000:])
            served_sync(database, secrets)
            assert_exactly_the_org(database, org)


def test_window_processes_do_not_each_import_the_programs_main_modules(tmp_path: Path) -> None:
    """The fork server imports what the program's main module imports, once: a window
    process (which runs the main module again as ``__mp_main__``) finds it imported. Before,
    each process imported it all itself (CPython 3.11's fork server never preloads
    ``__main__``): ~0.9 s of CPU per process under the benchmark's main module."""
    marker = tmp_path / "imports"
    done = subprocess.run(
        [sys.executable, "-m", "tests.pipelines.fork_preload_child", "3"],
        cwd=ROOT,
        env={**os.environ, "PULSE_FORK_MARKER": str(marker)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    pids = marker.read_text().split()
    # The program itself and its fork server; none of its three window processes.
    assert len(pids) == 2, pids
