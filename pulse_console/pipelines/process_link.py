"""The link between a sync and its window processes: calls both ways over one pipe, the
account's rate gate shared through it, errors carried across intact.

A window process (pipelines/jira/window_process.py) fetches and prepares pages with its own
interpreter, so a run's chains stop competing for one GIL. What must stay one per run stays
in the sync's process and is reached through the link:

- **the account's rate gate**: every request of a window process takes its in-flight slot
  from the sync's `RateGate` (`RemoteGate` → ``acquire``/``release``/``back_off``), so all
  chains of all runs of the account still share one budget and back off together; the
  gate's ``acquire`` is given the run's cancel flag, so cancellation is still checked before
  every request; slots a process took and never released (it died) are released when its
  link ends;
- **the database** (stored versions, quarantine), **the run's log** and **progress events**.

`ProcessLink` is either end: ``call`` waits for the other end's answer (or its error),
``notify`` does not; a reader thread hands answers to their callers and runs the handlers
the other end calls (blocking ones in a pool, so a gate wait never stops the reader). When
the other end is gone (its pipe closed: the sync was killed), ``on_lost`` runs.
"""

from __future__ import annotations

import itertools
import logging
import pickle
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from multiprocessing.connection import Connection
from typing import Any

from connectors.http.cancel import CancelCheck, CancelToken
from connectors.http.clock import Clock
from connectors.http.gate import RateGate

log = logging.getLogger(__name__)

Handler = Callable[..., Any]


def pack_error(exc: BaseException) -> tuple[Any, ...]:
    """An exception as plain data, rebuilt by `unpack_error` with its class and attributes
    (connector errors take keyword-only arguments, which pickling an exception drops)."""
    state = dict(getattr(exc, "__dict__", {}))
    state.pop("__traceback__", None)
    try:
        pickle.dumps((type(exc), exc.args, state))
    except Exception:  # an attribute that cannot cross: the class and text still do
        return (RuntimeError, (f"{type(exc).__name__}: {exc}",), {})
    return (type(exc), exc.args, state)


def unpack_error(packed: tuple[Any, ...]) -> BaseException:
    cls, args, state = packed
    exc: BaseException = cls.__new__(cls)
    exc.args = args
    exc.__dict__.update(state)
    return exc


class ProcessLink:
    """One end of a duplex pipe (see the module docstring)."""

    def __init__(
        self,
        conn: Connection,
        handlers: Mapping[str, Handler] | None = None,
        *,
        blocking: frozenset[str] = frozenset(),
        pool_size: int = 8,
        on_lost: Callable[[], None] = lambda: None,
        name: str = "process-link",
    ) -> None:
        self.conn = conn
        self.handlers = dict(handlers or {})
        self.blocking = blocking
        self.on_lost = on_lost
        self._send_lock = threading.Lock()
        self._ids = itertools.count()
        self._waiting: dict[int, Future[Any]] = {}
        self._waiting_lock = threading.Lock()
        self._pool = ThreadPoolExecutor(pool_size, thread_name_prefix=f"{name}-call")
        self._closed = threading.Event()
        self._reader = threading.Thread(target=self._read, name=f"{name}-reader", daemon=True)
        self._reader.start()

    # -- this end asks ------------------------------------------------------------------------

    def call(self, name: str, *args: Any) -> Any:
        """Run the other end's handler ``name`` and return its answer (or raise its error)."""
        answer: Future[Any] = Future()
        with self._waiting_lock:
            call_id = next(self._ids)
            self._waiting[call_id] = answer
        if not self._send(("call", call_id, name, args)):
            with self._waiting_lock:
                self._waiting.pop(call_id, None)
            raise ConnectionError("the other process is gone")
        return answer.result()

    def notify(self, name: str, *args: Any) -> None:
        """Run the other end's handler ``name``, not waiting for it (nor for its errors)."""
        self._send(("note", name, args))

    def close(self) -> None:
        """After the other end closed its side (its process ended): the reader has seen the
        pipe's end, or soon will."""
        self._closed.set()
        self._reader.join(timeout=5)
        self.conn.close()
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _send(self, message: tuple[Any, ...]) -> bool:
        try:
            with self._send_lock:
                self.conn.send(message)
        except (OSError, ValueError):  # closed here, or the other end is gone
            return False
        return True

    # -- the other end asks -------------------------------------------------------------------

    def _read(self) -> None:
        while True:
            try:
                message = self.conn.recv()
            except (EOFError, OSError, ValueError):
                break
            kind = message[0]
            if kind == "ret" or kind == "err":
                with self._waiting_lock:
                    answer = self._waiting.pop(message[1], None)
                if answer is None:
                    continue
                if kind == "ret":
                    answer.set_result(message[2])
                else:
                    answer.set_exception(unpack_error(message[2]))
            elif kind == "call":
                _, call_id, name, args = message
                if name in self.blocking:
                    self._pool.submit(self._answer, call_id, name, args)
                else:
                    self._answer(call_id, name, args)
            elif kind == "note":
                self._run_note(message[1], message[2])
        lost = ConnectionError("the other process is gone")
        with self._waiting_lock:
            waiting, self._waiting = self._waiting, {}
        for answer in waiting.values():
            answer.set_exception(lost)
        if not self._closed.is_set():
            self.on_lost()

    def _answer(self, call_id: int, name: str, args: tuple[Any, ...]) -> None:
        try:
            value = self.handlers[name](*args)
        except BaseException as exc:  # carried to the caller, raised there
            self._send(("err", call_id, pack_error(exc)))
            return
        if not self._send(("ret", call_id, value)):
            undo = self.handlers.get(f"{name}:undo")  # e.g. a gate slot nobody will release
            if undo is not None:
                undo(value)

    def _run_note(self, name: str, args: tuple[Any, ...]) -> None:
        try:
            self.handlers[name](*args)
        except Exception:  # a notification's failure is the receiver's to log
            log.exception("handling %s from another process failed", name)


class RemoteGate(RateGate):
    """The sync's rate gate, seen from a window process: every slot is taken from it over
    the link (the sync's end passes the run's cancel flag, so a cancelled run's requests
    are refused there); a refusal sets ``stop``, this process's cancel flag."""

    def __init__(self, link: ProcessLink, max_in_flight: int, stop: CancelToken) -> None:
        super().__init__(max_in_flight)
        self.link = link
        self.stop = stop

    def acquire(
        self,
        cancel: CancelCheck | None = None,
        clock: Clock | None = None,
        *,
        method: str = "GET",
        path: str = "/",
        max_wait: float | None = None,
    ) -> bool:
        if cancel is not None and cancel():
            return False
        if self.link.call("acquire", method, path, max_wait):
            return True
        self.stop.cancel()
        return False

    def release(self) -> None:
        self.link.notify("release")

    def back_off(self, until: datetime, *, limited: bool = True) -> None:
        self.link.notify("back_off", until, limited)


class GateHost:
    """The sync's end of `RemoteGate`: its handlers for one process's link, counting the
    slots that process holds so that `release_held` can return those it never will."""

    def __init__(self, gate: RateGate, cancel: CancelCheck) -> None:
        self.gate = gate
        self.cancel = cancel
        self._held = 0
        self._lock = threading.Lock()

    def handlers(self) -> dict[str, Handler]:
        return {
            "acquire": self.acquire,
            "acquire:undo": self.undo,
            "release": self.release,
            "back_off": self.back_off,
        }

    def acquire(self, method: str, path: str, max_wait: float | None) -> bool:
        if self.cancel():  # the run was cancelled: no request of it is sent any more
            return False
        taken = self.gate.acquire(self.cancel, method=method, path=path, max_wait=max_wait)
        if taken:
            with self._lock:
                self._held += 1
        return taken

    def undo(self, taken: bool) -> None:
        if taken:
            self.release()

    def release(self) -> None:
        with self._lock:
            if self._held == 0:
                return
            self._held -= 1
        self.gate.release()

    def back_off(self, until: datetime, limited: bool) -> None:
        self.gate.back_off(until, limited=limited)

    def release_held(self) -> None:
        with self._lock:
            held, self._held = self._held, 0
        for _ in range(held):
            self.gate.release()
