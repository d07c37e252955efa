"""Window processes: each of a full sync's concurrent windows fetched and prepared by a
process of its own, the sync's process only writing.

Measured (issue 15): with four windows in threads the sync's process spent ~0.8 ms of CPU
per issue under one GIL (validating search pages, dev-status requests through httpx,
building rows) and the chains waited for it, not for Jira. In a window process a chain
searches, fetches changelogs and dev-status and builds the page's rows with its own
interpreter, and hands the rows (`Fetched`: no models) to the sync, which commits them with
the window's checkpoint exactly as with threads (pipelines/windows.py).

Shared through the link (pipelines/process_link.py): the account's rate gate (with the run's
cancel flag, checked before every request), the database (the versions and development
summaries stored, quarantine), the run's log and rate-limit events. A window process holds
no state between windows and never writes: a crash anywhere loses only pages not committed,
fetched again on resume. When the sync's process dies, its window processes see their link
end and exit.

Processes come from a fork server (started once per sync process, with this module
imported), so a run pays a fork, not an interpreter's start, per window process.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import multiprocessing
import os
import queue
import resource
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from multiprocessing import resource_tracker
from multiprocessing.connection import Connection
from types import ModuleType
from typing import Any

from connectors.errors import Cancelled
from connectors.http import HttpCounters, HttpEvent
from connectors.http.cancel import CancelToken
from connectors.http.gate import RateGate
from connectors.jira import window_jql
from pulse_console.pipelines.collection import fewer_collections
from pulse_console.pipelines.jira.extract import STOPPED, JiraExtract, JiraSyncError, client_for
from pulse_console.pipelines.jira.pages import (
    PREPARED_AHEAD,
    ChainSetup,
    Fetched,
    PageChains,
    StoredLookup,
    Version,
)
from pulse_console.pipelines.process_link import (
    GateHost,
    ProcessLink,
    RemoteGate,
    pack_error,
    unpack_error,
)
from pulse_console.pipelines.quarantine import BadResponse

RUN_LOG = "pulse_console.pipelines.jira.window"
"""The logger of a window process's run messages (re-logged to the run's log)."""

_LOGGERS = ("", "connectors", "pulse_console", "httpx", "httpcore")
"""Loggers whose levels a window process takes from the sync's process: it hands over only
the records the sync would have logged itself (httpx's line per request stays unsent)."""

_EXIT_SECONDS = 10.0


@dataclass(frozen=True)
class WindowSpec:
    """Where one window's chain starts (its checkpoint) and how it restarts."""

    clause: str
    time_zone: str
    query: str
    page_token: str | None
    newest: datetime | None

    def restart(self, since: datetime | None) -> str:
        """The window's query from ``since`` (when Jira refuses a saved page token)."""
        return window_jql(self.clause, since, self.time_zone)


@dataclass(frozen=True)
class _Setup:
    """What a window process is started with (sent through its pipe, never argv)."""

    chain: ChainSetup
    base_url: str
    token: str
    http_options: dict[str, Any]
    max_in_flight: int
    log_levels: dict[str, int]


# -- the sync's side -------------------------------------------------------------------------


class _Worker:
    def __init__(self, process: Any, data: Connection, link: ProcessLink, gate: GateHost) -> None:
        self.process = process
        self.data = data
        self.link = link
        self.gate = gate
        self.counters = HttpCounters()
        self.peak_rss_mb = 0.0  # as of its last window's end
        self.alive = True


class WindowProcesses:
    """``count`` window processes for one run: `start` forks them (before the run knows its
    windows: they wait for `begin`), `begin` hands them the run's chain setup, `pages` runs
    a window in an idle one and yields its pages, `close` stops them (also as a context
    manager's exit)."""

    def __init__(
        self,
        count: int,
        *,
        base_url: str,
        token: str,
        http_options: dict[str, Any],
        gate: RateGate,
        cancel: CancelToken,
        lookup: StoredLookup,
        keep: Callable[[BadResponse], None],
        log: logging.Logger | logging.LoggerAdapter[logging.Logger],
        observer: Callable[[HttpEvent], None],
    ) -> None:
        self.count = count
        self.gate = gate
        self.base_url = base_url
        self.token = token
        self.http_options = {k: v for k, v in http_options.items() if k != "gate"}
        self.cancel = cancel
        self.lookup = lookup
        self.keep_bad = keep
        self.log = log
        self.observer = observer
        self.quarantined = 0
        self._lock = threading.Lock()
        self._workers: list[_Worker] = []
        self._idle: queue.Queue[_Worker] = queue.Queue()

    def start(self) -> WindowProcesses:
        """Fork the processes (waits for the fork server's imports the first time)."""
        try:
            for n in range(self.count):
                self._start(n)
        except BaseException:
            self.close()
            raise
        return self

    def begin(self, setup: ChainSetup) -> None:
        """Hand every process the run's chain setup (known once the metadata is)."""
        message = _Setup(
            chain=setup,
            base_url=self.base_url,
            token=self.token,
            http_options=self.http_options,
            max_in_flight=self.gate.max_in_flight,
            log_levels={name: logging.getLogger(name).getEffectiveLevel() for name in _LOGGERS},
        )
        for worker in self._workers:
            worker.data.send(("setup", message))
            self._idle.put(worker)

    def __enter__(self) -> WindowProcesses:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        for worker in self._workers:
            with contextlib.suppress(OSError, ValueError):
                worker.data.send(("exit",))
        for worker in self._workers:
            worker.process.join(_EXIT_SECONDS)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()
            worker.link.close()
            worker.data.close()
            worker.gate.release_held()
        self._workers = []

    def peak_rss_mb(self) -> float:
        """The largest peak resident size of a window process (MB; Linux reports KiB)."""
        return max((worker.peak_rss_mb for worker in self._workers), default=0.0)

    def counters(self) -> HttpCounters:
        """The requests of every window process so far."""
        total = HttpCounters()
        for worker in self._workers:
            total = total + worker.counters
        return total

    def pages(self, spec: WindowSpec) -> Iterator[Fetched]:
        """The window's pages, fetched by an idle window process (the chain's errors are
        raised here, in order, after the pages fetched before them)."""
        worker = self._idle.get()
        finished = False
        try:
            worker.data.send(("run", spec))
            while True:
                kind, payload, counters = self._receive(worker)
                worker.counters = counters
                if kind == "page":
                    yield payload
                    continue
                finished = True
                if kind == "end":
                    worker.peak_rss_mb = payload
                    return
                raise unpack_error(payload)
        finally:
            if not finished and worker.alive:  # the consumer left early: stop the chain
                worker.link.notify("stop")
                with contextlib.suppress(JiraSyncError, Cancelled):  # it died meanwhile
                    while self._receive(worker)[0] == "page":
                        pass
            if worker.alive:
                self._idle.put(worker)

    def _receive(self, worker: _Worker) -> tuple[str, Any, HttpCounters]:
        try:
            message: tuple[str, Any, HttpCounters] = worker.data.recv()
        except (EOFError, OSError) as exc:
            worker.alive = False
            if self.cancel.cancelled:  # stopped with the run (a process leaving, a signal)
                raise Cancelled(STOPPED) from None
            raise JiraSyncError(
                f"A window process of the sync ended unexpectedly ({exc or 'pipe closed'}). "
                "Every committed page is kept: run the sync again to resume.",
                title="Jira window process lost",
            ) from None
        return message

    def _start(self, n: int) -> None:
        context = _context()
        data, child_data = context.Pipe()
        control, child_control = context.Pipe()
        process = context.Process(
            target=_serve,
            args=(child_control, child_data),
            name=f"jira-window-{n}",
            daemon=True,
        )
        process.start()
        child_data.close()
        child_control.close()
        gate = GateHost(self.gate, self.cancel)
        link = ProcessLink(
            control,
            {
                **gate.handlers(),
                "versions": self.lookup.versions,
                "dev_summaries": self.lookup.dev_summaries,
                "keep": self._keep,
                "log": self._relog,
                "event": self.observer,
            },
            blocking=frozenset({"acquire", "versions", "dev_summaries", "keep"}),
            pool_size=self.gate.max_in_flight + PREPARED_AHEAD + 2,
            name=f"jira-window-{n}",
        )
        self._workers.append(_Worker(process, data, link, gate))

    def _keep(self, bad: BadResponse) -> None:
        self.keep_bad(bad)
        with self._lock:
            self.quarantined += 1

    def _relog(self, name: str, level: int, message: str) -> None:
        if name == RUN_LOG:
            self.log.log(level, "%s", message)
        else:
            logging.getLogger(name).log(level, "%s", message)


_helpers_lock = threading.Lock()


def _context() -> Any:
    """The fork server's context, started once with this module (and so the connectors,
    pydantic models and transforms) imported: a window process is then a fork of it."""
    _start_resource_tracker()
    context = multiprocessing.get_context("forkserver")
    preload = ["__main__", *_main_imports(), PRELOAD, __name__]
    context.set_forkserver_preload(list(dict.fromkeys(preload)))  # each once
    return context


PRELOAD = "pulse_console.pipelines.fork_preload"


def _main_imports() -> list[str]:
    """The modules the program's main module imported (named by its globals: modules, and
    the modules of its functions and classes), for the fork server to import once.

    Each window process runs the main module again as ``__mp_main__`` (multiprocessing's
    spawn preparation; its ``if __name__ == "__main__"`` block stays unrun). Preloading
    ``"__main__"`` is meant to do that once in the fork server, but CPython before 3.14
    never hands the server the main module's path (python/cpython#98552, #137996), so
    without these every window process imported them all itself: ~0.9 s of CPU each under a
    benchmark's main module (py-spy), at the run's start, while the metadata arrives."""
    main = sys.modules.get("__main__")
    names: set[str] = set()
    for value in list(vars(main).values()) if main is not None else []:
        if isinstance(value, ModuleType):
            names.add(value.__name__)
            continue
        try:
            module = getattr(value, "__module__", None)
        except Exception:  # an object whose attributes cannot be read: nothing to import
            continue
        if isinstance(module, str):
            names.add(module)
    names -= {"__main__", "__mp_main__", "builtins"}
    return sorted(n for n in names if n in sys.modules)


def _start_resource_tracker() -> None:
    """multiprocessing's resource tracker (which the fork server needs), started with a
    usable stderr: it hands ``sys.stderr.fileno()`` to its process, and the console's
    (Textual's print capture) answers -1, which the start refuses ("bad value(s) in
    fds_to_keep"); then the tracker gets the null device instead."""
    with _helpers_lock:
        stderr = sys.stderr
        try:
            usable = stderr is not None and stderr.fileno() >= 0
        except (OSError, ValueError):  # io.UnsupportedOperation is both
            usable = True  # the tracker skips a stderr without a descriptor
        if usable:
            resource_tracker.ensure_running()
            return
        with open(os.devnull, "w", encoding="utf-8") as quiet:
            sys.stderr = quiet
            try:
                resource_tracker.ensure_running()
            finally:
                sys.stderr = stderr


# -- the window process's side ---------------------------------------------------------------


class _Lookup:
    """`StoredLookup` through the link (the sync reads its database)."""

    def __init__(self, link: ProcessLink) -> None:
        self.link = link

    def versions(self, issue_ids: list[str]) -> dict[str, Version]:
        result: dict[str, Version] = self.link.call("versions", issue_ids)
        return result

    def dev_summaries(self, issue_ids: list[str]) -> dict[str, str | None]:
        result: dict[str, str | None] = self.link.call("dev_summaries", issue_ids)
        return result


class _Forward(logging.Handler):
    """Hands this process's log records to the sync (as text: redacted there, like its own)."""

    def __init__(self, link: ProcessLink) -> None:
        super().__init__()
        self.link = link

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.link.notify("log", record.name, record.levelno, record.getMessage())
        except Exception:
            self.handleError(record)


class _ResettableCancel(CancelToken):
    """This process's stop flag, cleared before each window it runs."""

    def reset(self) -> None:
        self._event.clear()


def _serve(control: Connection, data: Connection) -> None:
    """A window process: set up from its first message, then run windows until told to
    exit (or until the sync's end of the link is gone)."""
    # The terminal's signals (Ctrl-C, a dropped session) are the sync's to handle: it stops
    # this process, or this process exits when the sync is gone.
    for sig in (signal.SIGINT, signal.SIGHUP, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)
    stop = _ResettableCancel()
    link = ProcessLink(
        control,
        {"stop": stop.cancel},
        on_lost=lambda: os._exit(0),  # the sync died: nothing here is worth keeping
        name="window",
    )
    try:
        kind, setup = data.recv()
    except (EOFError, OSError):
        os._exit(0)
    if kind != "setup":  # closed before the run needed it
        return
    _quiet(link, setup.log_levels)
    try:
        chains = _chains(setup, link, stop)
    except Exception as exc:  # e.g. a base URL httpx refuses: each window fails with it
        _refuse_windows(data, exc)
        return
    client = chains.source.client
    # What the fork server imported is never garbage: full collections need not walk it.
    gc.freeze()
    with fewer_collections():
        _run_windows(data, chains, stop)
    chains.close()
    client.close()


def _quiet(link: ProcessLink, levels: dict[str, int]) -> None:
    """Everything this process would print goes to the sync's log instead: its records, and
    the errors of its threads; its own stdout and stderr are the sync's terminal (maybe the
    console's screen), so they are closed."""
    logging.getLogger().handlers[:] = [_Forward(link)]
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)
    logging.getLogger(RUN_LOG).setLevel(logging.INFO)  # the run's own messages, as in threads

    def thread_failed(args: threading.ExceptHookArgs) -> None:
        logging.getLogger(RUN_LOG).error(
            "a thread of a window process failed: %s: %s", args.exc_type.__name__, args.exc_value
        )

    threading.excepthook = thread_failed
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    os.close(devnull)


def _refuse_windows(data: Connection, error: Exception) -> None:
    """Answer every window with the error that keeps this process from running any."""
    while True:
        try:
            message = data.recv()
        except (EOFError, OSError):
            return
        if message[0] != "run":
            return
        data.send(("fail", pack_error(error), HttpCounters()))


def _run_windows(data: Connection, chains: PageChains, stop: _ResettableCancel) -> None:
    """Run each window the sync sends until it says exit (or is gone)."""
    client = chains.source.client
    while True:
        try:
            message = data.recv()
        except (EOFError, OSError):
            os._exit(0)
        if message[0] != "run":
            break
        stop.reset()
        spec: WindowSpec = message[1]
        try:
            for fetched in chains.pages(
                spec.query, spec.page_token, spec.newest, spec.restart, skip_unchanged=False
            ):
                data.send(("page", fetched, client.counters()))
        except BaseException as exc:  # raised in the sync, in order
            data.send(("fail", pack_error(exc), client.counters()))
        else:
            # The window's cyclic garbage, which rarer collections let pile up, freed before
            # the next window: else a process's memory grows with the windows it ran.
            gc.collect()
            peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            data.send(("end", peak_mb, client.counters()))


def _chains(setup: _Setup, link: ProcessLink, stop: _ResettableCancel) -> PageChains:
    options = setup.chain.options
    http = {
        **setup.http_options,
        "gate": RemoteGate(link, setup.max_in_flight, stop),
        "cancel": stop,
        "observer": lambda event: link.notify("event", event),
    }
    client = client_for(setup.base_url, options, setup.token, http)
    log = logging.getLogger(RUN_LOG)
    source = JiraExtract(
        client,
        options,
        log=log,
        cancelled=stop,
        keep=lambda bad: link.call("keep", bad),
    )
    return PageChains(setup.chain, source, _Lookup(link), cancelled=stop, log=log)
