"""Job run logs: batched into `log_entries`, appended to rotating JSON-lines files, and
published on the event bus as `LogRecord` events.

Each orchestrator owns one `JobLogSink`. Run loggers are private `logging.Logger` objects
(not registered in the logging tree, so nothing leaks between clients or orchestrators in one
process); the sink also forwards every record to the `pulse.jobs` logger so a worker's
stdout carries them as JSON lines too. Rows are written in batches (`batch_size` records or
every `flush_seconds`, and at the end of each run). Files rotate at `max_file_mb`.

Retention is one setting (`logging.retention_days`) for rows and files alike: `prune` deletes
the client's `log_entries` rows and log files older than it (the orchestrator calls it when
it starts and at every main tick, so a changed retention applies within one interval).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import MutableMapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert

from connectors.secret import redact
from pulse_console.engine.events import EventBus, LogRecord
from pulse_console.engine.logformat import JsonLinesFormatter, structured_extra
from pulse_console.files import PrivateRotatingFileHandler, private_dir
from storage.db import Database
from storage.models import LogEntry

_forward = logging.getLogger("pulse.jobs")


class RunLogger(logging.LoggerAdapter[logging.Logger]):
    """Adds client, job and run id to every record and keeps the caller's own `extra`."""

    def process(self, msg: Any, kwargs: MutableMapping[str, Any]) -> tuple[Any, Any]:
        kwargs["extra"] = {**(self.extra or {}), **kwargs.get("extra", {})}
        return msg, kwargs


class JobLogSink(logging.Handler):
    def __init__(
        self,
        database: Database,
        client_id: int,
        client: str,
        *,
        bus: EventBus,
        log_dir: Path | None,
        level: str = "INFO",
        max_file_mb: int = 50,
        batch_size: int = 100,
        flush_seconds: float = 1.0,
    ) -> None:
        super().__init__(level)
        self.database = database
        self.client_id = client_id
        self.client = client
        self.bus = bus
        self.batch_size = batch_size
        self._buffer: list[dict[str, Any]] = []
        self._buffer_lock = threading.Lock()
        self._loggers: dict[str, logging.Logger] = {}
        self._file: PrivateRotatingFileHandler | None = None
        if log_dir is not None:
            private_dir(log_dir)
            self._file = PrivateRotatingFileHandler(
                log_dir / f"jobs-{client}.jsonl",
                maxBytes=max_file_mb * 1024 * 1024,
                backupCount=50,
                encoding="utf-8",
            )
            self._file.setFormatter(JsonLinesFormatter())
        self._stop = threading.Event()
        self._flusher = threading.Thread(
            target=self._flush_loop, args=(flush_seconds,), name="joblog-flush", daemon=True
        )
        self._flusher.start()

    def logger(self, job: str, run_id: int | None) -> RunLogger:
        base = self._loggers.get(job)
        if base is None:
            base = logging.Logger(f"pulse.jobs.{job}")
            base.addHandler(self)
            self._loggers[job] = base
        return RunLogger(base, {"client": self.client, "job": job, "run_id": run_id})

    def emit(self, record: logging.LogRecord) -> None:
        try:
            # Redacted once here, so the row, the file, stdout and the bus all get this text.
            record.msg, record.args = redact(record.getMessage()), None
            message = record.msg
            ts = datetime.fromtimestamp(record.created, UTC)
            job = getattr(record, "job", None)
            run_id = getattr(record, "run_id", None)
            row = {
                "client_id": self.client_id,
                "ts": ts,
                "level": record.levelname,
                "job": job,
                "run_id": run_id,
                "logger": record.name,
                "message": message,
                "extra": structured_extra(record),
            }
            with self._buffer_lock:
                self._buffer.append(row)
                full = len(self._buffer) >= self.batch_size
            if self._file is not None:
                self._file.emit(record)
            if _forward.isEnabledFor(record.levelno):
                _forward.handle(record)
            self.bus.publish(
                LogRecord(self.client, job, run_id, record.levelname, record.name, message, ts)
            )
            if full:
                self.flush()
        except Exception:
            self.handleError(record)

    def flush(self) -> None:
        with self._buffer_lock:
            rows, self._buffer = self._buffer, []
        if rows:
            try:
                with self.database.session() as session:
                    session.execute(insert(LogEntry), rows)
            except Exception:
                logging.getLogger(__name__).exception("could not store %d log rows", len(rows))
        if self._file is not None:
            self._file.flush()

    def _flush_loop(self, seconds: float) -> None:
        while not self._stop.wait(seconds):
            self.flush()

    def close(self) -> None:
        self._stop.set()
        self.flush()
        if self._file is not None:
            self._file.close()
        super().close()


def prune(
    database: Database,
    client_id: int,
    client: str,
    log_dir: Path | None,
    retention_days: int,
    now: datetime,
) -> tuple[int, int]:
    """Delete the client's log rows and log files older than `retention_days`; returns
    (rows, files) deleted. The current file is kept while it is still written to."""
    cutoff = now - timedelta(days=retention_days)
    with database.session() as session:
        rows = len(
            session.execute(
                delete(LogEntry)
                .where(LogEntry.client_id == client_id, LogEntry.ts < cutoff)
                .returning(LogEntry.id)
            ).all()
        )
    files = 0
    if log_dir is not None and log_dir.is_dir():
        for path in log_dir.glob(f"jobs-{client}.jsonl*"):
            try:
                if path.stat().st_mtime < cutoff.timestamp():
                    path.unlink()
                    files += 1
            except OSError:
                pass
    return rows, files
