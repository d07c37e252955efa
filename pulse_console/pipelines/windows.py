"""Parallel windows: several independent request chains at once, one writer.

A source's full load is one long chain of requests (a page token, a cursor), sequential by
nature. Split into independent *windows* (Jira: a project, or a range of ``updated`` within
a large one; GitHub: a repository), the chains can run side by side: `fetch_windows` runs up
to ``concurrency`` of them in threads, each at most ``depth`` batches ahead of the consumer
(one bounded queue: back-pressure keeps memory flat whatever the source's size).

What stays as with one chain:

- **one writer**: the caller's thread commits every batch, through `commit_batch` (so the
  run's fence is checked with each one), together with *its window's* checkpoint row
  (``<scope>:w<n>``); a window's batches arrive in their order, so each window resumes after
  its last committed batch whatever the others did. With `commit_window_groups` the writer
  takes every batch ready when it asks and commits them in ONE transaction with each of
  their windows' latest checkpoint (`commit_batches`): a writer that fell behind pays a
  transaction's fixed costs (fence, temp tables, round trips, commit) once per group, not
  once per batch;
- **cancellation** is checked by each chain before every request (the HTTP stack does);
- **errors** (rate limits, cancellation, refused requests) reach the consumer after the
  batches fetched before them, and stop every other chain; when the consumer leaves early
  the chains are told to stop and joined before `fetch_windows` returns.

The requests of all chains share the account's rate gate (connectors/http/gate.py), so they
back off together when the source says "too many".
"""

from __future__ import annotations

import queue
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar, cast

from pulse_console.pipelines.checkpoint import Checkpoint

T = TypeVar("T")
W = TypeVar("W")

_POLL_SECONDS = 0.05
"""How often a chain blocked on a full queue looks whether the consumer left."""

SWITCH_INTERVAL_SECONDS = 0.001
"""The interpreter's thread switch interval while chains run (the default is 0.005). The
writer waits on the database several times per batch, and after each wait it must win the
GIL back from the chains, which parse pages: at 5 ms a turn, those waits for the GIL were
most of its time (py-spy). A shorter turn costs the chains little (they are waiting on
the network or the writer most of the time) and keeps the writer writing."""

_switch_lock = threading.Lock()
_switch_users = {"count": 0, "before": 0.0}


@contextmanager
def _short_switch_interval() -> Iterator[None]:
    """`SWITCH_INTERVAL_SECONDS` while any `fetch_window_groups` runs (process-wide: the
    interval is the interpreter's; the last one to leave restores the one before)."""
    with _switch_lock:
        if _switch_users["count"] == 0:
            _switch_users["before"] = sys.getswitchinterval()
            sys.setswitchinterval(min(SWITCH_INTERVAL_SECONDS, _switch_users["before"]))
        _switch_users["count"] += 1
    try:
        yield
    finally:
        with _switch_lock:
            _switch_users["count"] -= 1
            if _switch_users["count"] == 0:
                sys.setswitchinterval(_switch_users["before"])


def window_scope(scope: str, index: int) -> str:
    """The checkpoint row of window ``index`` of ``scope`` (``jira:issues:w3``)."""
    return f"{scope}:w{index}"


class _Done:
    """Every chain is exhausted."""


@dataclass(frozen=True)
class _Failed:
    """A chain raised ``error``; the consumer re-raises it in its turn."""

    error: BaseException


@contextmanager
def fetch_windows(
    chains: Sequence[Callable[[], Iterable[T]]],
    *,
    concurrency: int,
    depth: int = 1,
    name: str = "window",
) -> Iterator[Iterator[tuple[int, T]]]:
    """Run the ``chains`` (each makes its batches when called), up to ``concurrency`` at
    once; yield ``(chain index, batch)`` in each chain's order::

    with fetch_windows([lambda: pages(w) for w in windows], concurrency=4) as fetched:
        for index, page in fetched:
            commit(windows[index], page)
    """
    with fetch_window_groups(
        chains, concurrency=concurrency, depth=depth, name=name, group_limit=1
    ) as groups:
        yield (item for group in groups for item in group)


@contextmanager
def fetch_window_groups(
    chains: Sequence[Callable[[], Iterable[T]]],
    *,
    concurrency: int,
    depth: int = 1,
    name: str = "window",
    group_limit: int | None = None,
) -> Iterator[Iterator[list[tuple[int, T]]]]:
    """`fetch_windows`, handing the consumer every batch ready when it asks (at least one,
    at most ``group_limit``, by default the queue's capacity) as one list, in arrival order
    (so each chain's batches stay in their order): a writer that commits a group in one
    transaction pays a transaction's fixed costs once for all of them."""
    if concurrency < 1 or depth < 1:
        raise ValueError("concurrency and depth must be at least 1")
    workers = min(concurrency, len(chains))
    capacity = max(1, workers) * depth
    slots: queue.Queue[object] = queue.Queue(maxsize=capacity)
    if group_limit is None:
        group_limit = capacity + 1  # the queue's content and the one a chain was putting
    if group_limit < 1:
        raise ValueError("group_limit must be at least 1")
    leaving = threading.Event()
    lock = threading.Lock()
    todo = iter(range(len(chains)))
    running = {"workers": workers}

    def put(item: object) -> bool:
        while not leaving.is_set():
            try:
                slots.put(item, timeout=_POLL_SECONDS)
                return True
            except queue.Full:
                continue
        return False

    def next_chain() -> int | None:
        with lock:
            return next(todo, None)

    def run_chain(index: int) -> bool:
        source = iter(chains[index]())
        try:
            return all(put((index, batch)) for batch in source)
        finally:
            close = getattr(source, "close", None)
            if close is not None:
                close()

    def work() -> None:
        try:
            while not leaving.is_set():
                index = next_chain()
                if index is None or not run_chain(index):
                    break
        except BaseException as exc:  # handed to the consumer, raised there
            put(_Failed(exc))
            leaving.set()  # the other chains stop before their next batch
            return
        with lock:
            running["workers"] -= 1
            last = running["workers"] == 0
        if last:
            put(_Done())

    def consume() -> Iterator[list[tuple[int, T]]]:
        if workers == 0:
            return
        while True:
            item = slots.get()
            if isinstance(item, _Done):
                return
            if isinstance(item, _Failed):
                raise item.error
            group = [cast(tuple[int, T], item)]
            # What else is ready joins it: a writer that fell behind catches up in one go.
            while len(group) < group_limit:
                try:
                    item = slots.get_nowait()
                except queue.Empty:
                    break
                if isinstance(item, _Done | _Failed):
                    yield group
                    if isinstance(item, _Failed):
                        raise item.error
                    return
                group.append(cast(tuple[int, T], item))
            yield group

    threads = [
        threading.Thread(target=work, name=f"{name}-{n}", daemon=True) for n in range(workers)
    ]
    with _short_switch_interval():
        for thread in threads:
            thread.start()
        try:
            yield consume()
        finally:
            leaving.set()
            for thread in threads:
                thread.join()


def commit_windows(
    checkpoints: Sequence[Checkpoint],
    windows: Sequence[W],
    chain: Callable[[int, W], Iterable[T]],
    commit: Callable[[Checkpoint, int, T], None],
    *,
    concurrency: int,
    depth: int = 1,
    name: str = "window",
) -> None:
    """Fetch every window's batches (``chain(index, window)``), ``concurrency`` windows at
    once, and hand each batch to ``commit`` in this thread with its window's checkpoint
    (``checkpoints[index]``; ``commit`` calls `commit_batch` with it, so the fence is checked
    with every batch)."""

    def chain_of(index: int) -> Callable[[], Iterable[T]]:
        return lambda: chain(index, windows[index])

    chains = [chain_of(index) for index in range(len(windows))]
    with fetch_windows(chains, concurrency=concurrency, depth=depth, name=name) as fetched:
        for index, batch in fetched:
            commit(checkpoints[index], index, batch)


def commit_window_groups(
    checkpoints: Sequence[Checkpoint],
    windows: Sequence[W],
    chain: Callable[[int, W], Iterable[T]],
    commit: Callable[[list[tuple[Checkpoint, int, T]]], None],
    *,
    concurrency: int,
    depth: int = 1,
    name: str = "window",
) -> None:
    """`commit_windows`, handing ``commit`` every batch ready at once (`fetch_window_groups`)
    as ``(checkpoint, index, batch)`` triples; ``commit`` writes them in ONE transaction
    with each window's latest checkpoint (`commit_batches`), so a window still resumes
    after its last committed batch."""

    def chain_of(index: int) -> Callable[[], Iterable[T]]:
        return lambda: chain(index, windows[index])

    chains = [chain_of(index) for index in range(len(windows))]
    with fetch_window_groups(chains, concurrency=concurrency, depth=depth, name=name) as groups:
        for group in groups:
            commit([(checkpoints[index], index, batch) for index, batch in group])
