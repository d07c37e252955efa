"""Fetch ahead: while the caller transforms and loads batch n, a thread fetches batch n+1.

A source's batches come from a chain of requests (a page token, a cursor) and its load
path is the database: taking turns leaves each idle while the other works. `fetch_ahead`
runs the fetching iterator in one thread per chain, at most ``depth`` batches ahead of the
consumer (a bounded queue: back-pressure keeps memory flat whatever the source's size).

What stays as it was: the consumer commits each batch with its checkpoint, in order, so a
crash still resumes after the last committed batch (batches fetched ahead and not yet
committed are fetched again); the fetching iterator checks cancellation before each request
and its errors (rate limits, cancellation, refused requests) reach the consumer in order,
after the batches fetched before them. When the consumer stops early (its own error, a
break), the fetch thread is told to stop and joined before `fetch_ahead` returns.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar, cast

T = TypeVar("T")

_POLL_SECONDS = 0.05
"""How often a fetch thread blocked on a full queue looks whether the consumer left."""


class _Done:
    """The fetching iterator is exhausted."""


@dataclass(frozen=True)
class _Failed:
    """The fetching iterator raised ``error``; the consumer re-raises it in its turn."""

    error: BaseException


@contextmanager
def fetch_ahead(
    batches: Iterable[T], *, depth: int = 1, name: str = "fetch-ahead"
) -> Iterator[Iterator[T]]:
    """Iterate ``batches`` in a thread, up to ``depth`` items ahead of the caller::

    with fetch_ahead(pages(), depth=1) as ahead:
        for page in ahead:
            commit(transform(page))
    """
    if depth < 1:
        raise ValueError("depth must be at least 1")
    slots: queue.Queue[object] = queue.Queue(maxsize=depth)
    leaving = threading.Event()

    def put(item: object) -> bool:
        while not leaving.is_set():
            try:
                slots.put(item, timeout=_POLL_SECONDS)
                return True
            except queue.Full:
                continue
        return False

    def fetch() -> None:
        source = iter(batches)
        try:
            for batch in source:
                if not put(batch):
                    return
            put(_Done())
        except BaseException as exc:  # handed to the consumer, raised there
            put(_Failed(exc))
        finally:
            close = getattr(source, "close", None)
            if close is not None:
                close()

    def consume() -> Iterator[T]:
        while True:
            item = slots.get()
            if isinstance(item, _Done):
                return
            if isinstance(item, _Failed):
                raise item.error
            yield cast(T, item)

    thread = threading.Thread(target=fetch, name=name, daemon=True)
    thread.start()
    try:
        yield consume()
    finally:
        leaving.set()
        thread.join()
