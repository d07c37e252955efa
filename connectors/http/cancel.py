"""Cooperative cancellation: checked before every request and during every wait."""

from __future__ import annotations

import threading
from collections.abc import Callable

CancelCheck = Callable[[], bool]
"""Anything that answers "should we stop now?" (e.g. a job's cancel flag)."""


class CancelToken:
    """A thread-safe cancel flag whose waits wake up as soon as it is set."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def __call__(self) -> bool:
        return self._event.is_set()

    def wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds``; return True if cancelled meanwhile."""
        return self._event.wait(max(0.0, seconds))
