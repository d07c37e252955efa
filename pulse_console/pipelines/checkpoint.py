"""A run's checkpoints and the one way a batch commits (every pipeline).

A source keeps one checkpoint row per scope (``jira:issues``, ``repo:<owner>/<name>`` …) of
its integration. `commit_batch` writes a batch's rows (the source's ``load`` function), the
payloads quarantined with it and the checkpoint that covers them in ONE transaction, so a
crash at any instant leaves a checkpoint that describes exactly the committed rows. That
transaction first checks the run's fence (storage/fencing.py), so a run another worker took
over raises `StaleRun` instead of writing next to the new run's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Connection

from pulse_console.pipelines.base import RunContext
from pulse_console.pipelines.quarantine import BadResponse, RejectedItem, quarantine
from storage.checkpoints import load_checkpoint, save_checkpoint
from storage.fencing import check_fence

T = TypeVar("T")


@dataclass(frozen=True)
class Checkpoint:
    """The checkpoint row ``scope`` of the run's integration."""

    ctx: RunContext
    scope: str

    def read(self) -> dict[str, Any]:
        """The committed state ({} before the first commit)."""
        with self.ctx.database.engine.connect() as conn:
            return load_checkpoint(conn, *self._key())

    def save(self, conn: Connection, state: dict[str, Any]) -> None:
        """Write ``state`` in the caller's transaction."""
        save_checkpoint(conn, *self._key(), state)

    def _key(self) -> tuple[int, int, str]:
        return self.ctx.client_id, self.ctx.integration.id, self.scope


@dataclass(frozen=True)
class Committed(Generic[T]):
    """What `commit_batch` did: the load function's result and the payloads quarantined."""

    loaded: T
    quarantined: int


def commit_batch(
    checkpoint: Checkpoint,
    state: dict[str, Any],
    load: Callable[[Connection], T],
    rejected: Iterable[RejectedItem | BadResponse] = (),
) -> Committed[T]:
    """One transaction: check the fence, ``load(conn)``, quarantine ``rejected``, save ``state``."""
    return commit_batches([(checkpoint, state)], load, rejected)


def commit_batches(
    saves: Sequence[tuple[Checkpoint, dict[str, Any]]],
    load: Callable[[Connection], T],
    rejected: Iterable[RejectedItem | BadResponse] = (),
) -> Committed[T]:
    """`commit_batch` for batches of several checkpoints (windows) at once: one transaction
    checks the fence, loads, quarantines and saves every ``(checkpoint, state)`` given."""
    if not saves:
        raise ValueError("commit_batches needs at least one checkpoint")
    ctx = saves[0][0].ctx
    with ctx.database.engine.begin() as conn:
        check_fence(conn, ctx.fence)
        loaded = load(conn)
        quarantined = quarantine(conn, ctx, rejected)
        for checkpoint, state in saves:
            checkpoint.save(conn, state)
    return Committed(loaded, quarantined)
