"""The embedded PostgreSQL: start, reuse by a second process, stop with the last, and adopt
a server orphaned by a SIGKILLed owner. Real processes, real servers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from storage.embedded import live_handles, pgdata_dir, prune_dead_handles

HOLDER = """
import sys, time
from pathlib import Path
from storage.embedded import start_embedded
info = start_embedded(Path(sys.argv[1]))
print(info.url, info.server_pid, flush=True)
sys.stdin.readline()  # hold until told to go
"""


def start_holder(data_dir: Path) -> tuple[subprocess.Popen[str], str, int]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(data_dir)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().split()
    assert line, "holder did not start the embedded server"
    return proc, line[0], int(line[1])


def release(proc: subprocess.Popen[str]) -> None:
    assert proc.stdin is not None
    proc.stdin.write("\n")
    proc.stdin.flush()
    assert proc.wait(timeout=60) == 0


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for our purposes.
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def wait_dead(pid: int, seconds: float = 20) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.1)
    return False


def query(url: str) -> int:
    conninfo = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo) as conn:
        row = conn.execute("SELECT 1").fetchone()
        assert row is not None
        return int(row[0])


@pytest.mark.slow
def test_second_process_reuses_the_server_and_the_last_one_out_stops_it(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    first, _, server_pid = start_holder(data_dir)
    second, url2, server_pid2 = start_holder(data_dir)
    try:
        assert server_pid2 == server_pid, "the second process must join, not start another"
        assert query(url2) == 1
        release(first)
        assert alive(server_pid), "server must keep running while a user remains"
        assert query(url2) == 1
    finally:
        release(second)
    assert wait_dead(server_pid), "the last process out must stop the server"


@pytest.mark.slow
def test_a_server_orphaned_by_sigkill_is_adopted_and_stopped(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    victim, _, server_pid = start_holder(data_dir)
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=10)
    assert alive(server_pid), "pgserver leaves the server running after SIGKILL"
    assert victim.pid in live_handles(pgdata_dir(data_dir))

    heir, url, heir_server_pid = start_holder(data_dir)
    assert heir_server_pid == server_pid
    assert victim.pid not in live_handles(pgdata_dir(data_dir))
    assert query(url) == 1
    release(heir)
    assert wait_dead(server_pid), "the adopting process must stop the orphan on exit"


def test_pruning_keeps_live_pids_and_drops_dead_ones(tmp_path: Path) -> None:
    pgdata = tmp_path / "pgdata"
    pgdata.mkdir()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (pgdata / ".handle_pids.json").write_text(f"[{os.getpid()}, {dead.pid}]")
    assert prune_dead_handles(pgdata) == [dead.pid]
    assert live_handles(pgdata) == [os.getpid()]
