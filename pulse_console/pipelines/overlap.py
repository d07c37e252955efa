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

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from pulse_console.pipelines.windows import fetch_windows

T = TypeVar("T")


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
    with fetch_windows([lambda: batches], concurrency=1, depth=depth, name=name) as fetched:
        yield (batch for _, batch in fetched)
