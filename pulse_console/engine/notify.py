"""Events across processes: PostgreSQL NOTIFY out, LISTEN in.

Channel names are derived from (schema, client id), so clients — and test schemas sharing
one database — never hear each other. NOTIFY and LISTEN use their own dedicated autocommit
connections (taken out of the engine's pool, so they keep its connection options such as a
pinned search_path): one NOTIFY connection per process, whatever the number of clients.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import zlib
from collections.abc import Callable
from typing import Any

from sqlalchemy import text

from pulse_console.engine.events import Event, encode
from storage.db import Database

_log = logging.getLogger(__name__)


def key_of(schema: str, client_id: int) -> int:
    """A positive 31-bit key for this (schema, client): the channel suffix."""
    return zlib.crc32(f"{schema}:{client_id}".encode()) & 0x7FFFFFFF


def client_key(database: Database, client_id: int) -> int:
    with database.engine.connect() as conn:
        schema = conn.execute(text("SELECT current_schema()")).scalar_one()
    return key_of(schema, client_id)


def events_channel(key: int) -> str:
    return f"pulse_events_{key}"


def dedicated_connection(database: Database, application_name: str) -> Any:
    """A psycopg connection of its own (autocommit), named in pg_stat_activity."""
    raw = database.engine.raw_connection()
    conn = raw.driver_connection
    assert conn is not None
    raw.detach()
    conn.rollback()
    conn.autocommit = True
    conn.execute("SELECT set_config('application_name', %s, false)", (application_name[:63],))
    return conn


def notify(database: Database, channel: str, payload: str = "") -> None:
    """One NOTIFY through the pool (sent when the transaction commits)."""
    with database.engine.begin() as conn:
        conn.execute(text("SELECT pg_notify(:c, :p)"), {"c": channel, "p": payload})


class NotifyPublisher:
    """Sends events as NOTIFY from a background thread, so publishers never wait on I/O;
    one connection for every channel (client) of the process."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self._queue: queue.Queue[tuple[str, str] | None] = queue.Queue(maxsize=10_000)
        self._thread = threading.Thread(target=self._send_loop, name="notify", daemon=True)
        self._thread.start()

    def publish(self, channel: str, event: Event) -> None:
        try:
            self._queue.put_nowait((channel, encode(event)))
        except queue.Full:
            _log.warning("event queue full: dropping %s", type(event).__name__)
        except ValueError as exc:
            _log.warning("event not sent: %s", exc)

    def close(self, timeout: float = 5.0) -> None:
        self._queue.put(None)
        self._thread.join(timeout)

    def _send_loop(self) -> None:
        conn: Any = None
        while True:
            item = self._queue.get()
            if item is None:
                break
            try:
                if conn is None:
                    conn = dedicated_connection(self.database, "pulse-notify")
                conn.execute("SELECT pg_notify(%s, %s)", item)
            except Exception as exc:
                _log.warning("NOTIFY failed (%s); reconnecting", exc)
                conn = None
        if conn is not None:
            conn.close()


class Listener:
    """LISTENs on channels in a background thread and calls `callback(channel, payload)`."""

    def __init__(
        self,
        database: Database,
        channels: list[str],
        callback: Callable[[str, str], None],
        *,
        name: str = "pulse-listen",
    ) -> None:
        self.database = database
        self.channels = channels
        self.callback = callback
        self.name = name
        self.ready = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            conn: Any = None
            try:
                conn = dedicated_connection(self.database, self.name)
                for channel in self.channels:
                    conn.execute(f'LISTEN "{channel}"')
                self.ready.set()
                while not self._stop.is_set():
                    for note in conn.notifies(timeout=0.25):
                        try:
                            self.callback(note.channel, note.payload)
                        except Exception:
                            _log.exception("listener callback failed")
            except Exception as exc:
                _log.warning("LISTEN connection lost (%s); reconnecting", exc)
                self._stop.wait(1.0)
            finally:
                if conn is not None:
                    with contextlib.suppress(Exception):
                        conn.close()
