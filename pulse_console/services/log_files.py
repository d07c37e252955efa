"""Files in the log directory: list, view by line without reading whole, export, delete, clear.

A `LogFile` never reads its file whole. `tail()` reads backwards from the end, so the last
page of a 1 GB file appears at once; `build_index()` scans the file in 1 MiB chunks and keeps
the byte offset of every `STRIDE`-th line (a sparse index: 8 bytes per 256 lines), so any
line is one seek and a short forward scan away. Destructive actions are audited.
"""

from __future__ import annotations

import os
import zipfile
from array import array
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from pulse_console.services import audit
from storage.db import Database

CHUNK = 1 << 20
STRIDE = 256
LOG_SUFFIXES = (".log", ".jsonl", ".json", ".txt")
JOB_LOG_PREFIX = "jobs-"  # `engine.joblog` writes jobs-<client>.jsonl, rotated to .1, .2…


@dataclass(frozen=True)
class LogFileInfo:
    name: str
    path: Path
    size: int
    modified: datetime


def _is_clients(name: str, client: str) -> bool:
    """May `client`'s operator see file `name`? Its own job log and files of no client
    (process logs) yes; another client's job log never."""
    stem, _, rotation = name.rpartition(".")
    if not (name.endswith(LOG_SUFFIXES) or (rotation.isdigit() and stem.endswith(LOG_SUFFIXES))):
        return False
    if not name.startswith(JOB_LOG_PREFIX):
        return True
    own = f"{JOB_LOG_PREFIX}{client}.jsonl"
    return name == own or name.startswith(own + ".")


def list_files(log_dir: Path, client: str) -> list[LogFileInfo]:
    """The log files `client`'s operator may see in `log_dir` (rotated ones too), newest
    first; missing dir = none. Other clients' job logs share the directory: never listed."""
    if not log_dir.is_dir():
        return []
    found = []
    for entry in os.scandir(log_dir):
        if not entry.is_file() or not _is_clients(entry.name, client):
            continue
        stat = entry.stat()
        found.append(
            LogFileInfo(
                entry.name,
                Path(entry.path),
                stat.st_size,
                datetime.fromtimestamp(stat.st_mtime).astimezone(),
            )
        )
    return sorted(found, key=lambda f: (f.modified, f.name), reverse=True)


Progress = Callable[[int, int], None]


class LogFile:
    """Line access to one file: backward tail at once, a sparse line index on demand."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.size = path.stat().st_size
        self._checkpoints = array("Q", [0])
        self._line_count: int | None = None

    @property
    def indexed(self) -> bool:
        return self._line_count is not None

    @property
    def line_count(self) -> int:
        if self._line_count is None:
            raise RuntimeError("build_index() first")
        return self._line_count

    def tail(self, count: int) -> list[str]:
        """The last `count` lines, reading backwards from the end only as far as needed."""
        if self.size == 0 or count <= 0:
            return []
        with self.path.open("rb") as handle:
            end = self.size
            handle.seek(end - 1)
            if handle.read(1) == b"\n":
                end -= 1
            buffer = b""
            pos = end
            while pos > 0 and buffer.count(b"\n") <= count:
                step = min(CHUNK // 16, pos)
                pos -= step
                handle.seek(pos)
                buffer = handle.read(step) + buffer
        lines = buffer[: end - pos].split(b"\n")
        if pos > 0:
            lines = lines[1:]  # the first piece is a partial line
        return [_decode(line) for line in lines[-count:]]

    def build_index(
        self, progress: Progress | None = None, cancelled: Callable[[], bool] | None = None
    ) -> int:
        """Scan for line breaks, recording every STRIDE-th line start; returns the line count."""
        checkpoints = array("Q", [0])
        lines = 0
        offset = 0
        with self.path.open("rb") as handle:
            while True:
                if cancelled is not None and cancelled():
                    raise InterruptedError("indexing cancelled")
                chunk = handle.read(CHUNK)
                if not chunk:
                    break
                breaks = chunk.count(b"\n")
                next_mark = (len(checkpoints)) * STRIDE
                if lines + breaks >= next_mark:
                    pos = -1
                    seen = lines
                    while True:
                        pos = chunk.find(b"\n", pos + 1)
                        if pos < 0:
                            break
                        seen += 1
                        if seen % STRIDE == 0:
                            checkpoints.append(offset + pos + 1)
                lines += breaks
                offset += len(chunk)
                if progress is not None:
                    progress(offset, self.size)
        if self.size and not _ends_with_newline(self.path, self.size):
            lines += 1  # a last line without its newline still counts
        self._checkpoints = checkpoints
        self._line_count = lines
        return lines

    def lines(self, start: int, count: int) -> list[str]:
        """Lines `start`…`start+count-1` (0-based) from the index."""
        total = self.line_count
        start = max(0, min(start, total))
        count = max(0, min(count, total - start))
        if count == 0:
            return []
        block = start // STRIDE
        skip = start - block * STRIDE
        result: list[bytes] = []
        with self.path.open("rb") as handle:
            handle.seek(self._checkpoints[block])
            for _ in range(skip):
                handle.readline()
            for _ in range(count):
                result.append(handle.readline().rstrip(b"\r\n"))
        return [_decode(line) for line in result]


def _ends_with_newline(path: Path, size: int) -> bool:
    with path.open("rb") as handle:
        handle.seek(size - 1)
        return handle.read(1) == b"\n"


def _decode(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace").rstrip("\r")


def _inside(log_dir: Path, path: Path, client: str) -> Path:
    resolved = path.resolve()
    if resolved.parent != log_dir.resolve() or not _is_clients(resolved.name, client):
        raise ValueError(f"{path} is not a log file of client {client!r} in {log_dir}")
    return resolved


def export_zip(
    database: Database,
    client: str,
    log_dir: Path,
    files: Iterable[Path],
    dest: Path,
    *,
    actor: str,
) -> int:
    """Zip the given log files into `dest` (streamed, never read whole); audited."""
    names = []
    dest.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(dest, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            resolved = _inside(log_dir, path, client)
            archive.write(resolved, arcname=resolved.name)
            names.append(resolved.name)
    with database.session() as session:
        audit.record(session, client, actor, "log_files.export", str(dest), {"files": names})
    return len(names)


def delete_file(database: Database, client: str, log_dir: Path, path: Path, *, actor: str) -> None:
    resolved = _inside(log_dir, path, client)
    size = resolved.stat().st_size
    resolved.unlink()
    with database.session() as session:
        audit.record(session, client, actor, "log_files.delete", resolved.name, {"bytes": size})


def clear_file(database: Database, client: str, log_dir: Path, path: Path, *, actor: str) -> None:
    """Truncate to zero bytes (a writer holding it open keeps appending)."""
    resolved = _inside(log_dir, path, client)
    size = resolved.stat().st_size
    with resolved.open("r+b") as handle:
        handle.truncate(0)
    with database.session() as session:
        audit.record(session, client, actor, "log_files.clear", resolved.name, {"bytes": size})


def older_than(log_dir: Path, client: str, days: int, now: datetime) -> list[LogFileInfo]:
    """The client's files `delete_older_than` would remove (shown in its confirmation)."""
    limit = now - timedelta(days=days)
    return [f for f in list_files(log_dir, client) if f.modified < limit]


def delete_older_than(
    database: Database, client: str, log_dir: Path, days: int, now: datetime, *, actor: str
) -> list[str]:
    if days < 1:
        raise ValueError("days must be at least 1")
    victims = older_than(log_dir, client, days, now)
    for info in victims:
        info.path.unlink(missing_ok=True)
    names = [v.name for v in victims]
    with database.session() as session:
        audit.record(
            session,
            client,
            actor,
            "log_files.delete_older_than",
            str(log_dir),
            {"days": days, "files": names},
        )
    return names
