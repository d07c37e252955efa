"""Where a run executes: the orchestrator hands a ready-to-go callable to a `Runner`.

The state machine never knows how a run is executed. Today runs happen in this process
(`ThreadRunner` for workers and the console, `InlineRunner` for simulations and the CLI); a
distributed executor can implement the same two methods later.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Protocol

Work = Callable[[], None]


class Runner(Protocol):
    def submit(self, name: str, work: Work) -> None:
        """Start `work` (which records its own outcome); return without waiting for it."""
        ...

    def join(self, timeout: float | None = None) -> bool:
        """Wait for submitted work to end; True when none is left."""
        ...


class InlineRunner:
    """Runs the work on the caller's thread before `submit` returns (deterministic)."""

    def submit(self, name: str, work: Work) -> None:
        work()

    def join(self, timeout: float | None = None) -> bool:
        return True


class ThreadRunner:
    """One thread per run."""

    def __init__(self) -> None:
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    def submit(self, name: str, work: Work) -> None:
        thread = threading.Thread(target=work, name=f"run-{name}", daemon=True)
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()]
            self._threads.append(thread)
        thread.start()

    def join(self, timeout: float | None = None) -> bool:
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout)
        return not any(t.is_alive() for t in threads)
