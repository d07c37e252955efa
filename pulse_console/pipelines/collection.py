"""Fewer full garbage collections while a sync runs.

A sync allocates millions of short-lived, acyclic objects (each search page's models, its
rows), which reference counting frees. CPython's cyclic collector still counts them: with a
few pages alive at once, they are promoted to the oldest generation, and every few pages a
full collection walks everything the process holds — measured on a medium Jira sync, 40 % of
its CPU went there (the time showed up inside pydantic's ``validate_json``, the allocator).
Young collections stay as they are; only the oldest generation's threshold is raised while
any sync runs, and put back when the last one ends.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

FULL_COLLECTION_THRESHOLD = 1000
"""Young-generation collections between two full ones during a sync (CPython's default:
10, and only while the long-lived objects grew by a quarter)."""

_lock = threading.Lock()
_depth = 0
_saved: tuple[int, ...] = ()


@contextmanager
def rare_full_collections() -> Iterator[None]:
    """Raise the oldest generation's threshold for the block (nested and concurrent blocks
    share one setting; the one before the first is restored after the last)."""
    global _depth, _saved
    with _lock:
        if _depth == 0:
            _saved = gc.get_threshold()
            young, middle, oldest = _saved[:3]
            gc.set_threshold(young, middle, max(oldest, FULL_COLLECTION_THRESHOLD))
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                gc.set_threshold(*_saved)
