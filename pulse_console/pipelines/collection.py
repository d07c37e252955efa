"""Fewer full garbage collections while a sync runs.

A sync allocates millions of short-lived, acyclic objects (each search page's models, its
rows), which reference counting frees. CPython's cyclic collector still counts them: with a
few pages alive at once, they are promoted to the oldest generation, and every few pages a
full collection walks everything the process holds — measured on a medium Jira sync, 40 % of
its CPU went there (the time showed up inside pydantic's ``validate_json``, the allocator).
While any sync runs, young collections come every 100,000 new objects instead of 700, so the
pages in flight are scanned a few hundred times per run instead of thousands and are seldom
promoted: full collections, whose threshold stays CPython's (10 middle collections, and only
once the long-lived objects grew by a quarter), become rare by themselves. A rarer full
collection (threshold 1000) saved no more CPU and let a large organisation's sync keep its
cyclic garbage: peak memory grew with the organisation (served sync, medium 315 MB, large
395 MB; with 10: 310-325 and 360 MB, 0.70-0.72 ms of CPU per issue either way). The setting
before is put back when the last sync ends.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

YOUNG_COLLECTION_THRESHOLD = 100_000
"""New container objects (net of those freed) between two young collections during a sync
(CPython's default: 700)."""

FULL_COLLECTION_THRESHOLD = 10
"""Middle-generation collections between two full ones during a sync: CPython's default,
kept (a higher one keeps cyclic garbage for the length of a large sync)."""


_lock = threading.Lock()
_depth = 0
_saved: tuple[int, ...] = ()


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Fewer young and full collections in the block (nested and concurrent blocks share one
    setting; the one before the first is restored after the last)."""
    global _depth, _saved
    with _lock:
        if _depth == 0:
            _saved = gc.get_threshold()
            young, middle, oldest = _saved[:3]
            gc.set_threshold(
                max(young, YOUNG_COLLECTION_THRESHOLD),
                middle,
                max(oldest, FULL_COLLECTION_THRESHOLD),
            )
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                gc.set_threshold(*_saved)
