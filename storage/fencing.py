"""Fencing: a write made on behalf of a run commits only while the run is still its writer's.

With a pool of workers nobody leads a client; a run belongs to the worker that executes it.
When that worker stops beating (dead, hung, cut off), another worker takes the run over:
it closes the run INTERRUPTED and opens a new one from the checkpoint. The first worker may
still be alive and go on writing, so every write transaction made on behalf of a run first
calls `Fence.check` in that same transaction: ``SELECT … FOR SHARE`` on the run's row, which
must still be RUNNING. A takeover's UPDATE of the row waits for transactions that already
passed the check to commit, and every transaction that starts after it raises `StaleRun`
before writing anything.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from storage.models import JobRun


class StaleRun(RuntimeError):
    """This run was taken over (or closed): its writer must stop without writing anything."""


@dataclass(frozen=True)
class Fence:
    """The run a writer writes for."""

    run_id: int

    def check(self, conn: Connection | Session) -> None:
        """Raise `StaleRun` unless the run is still RUNNING; hold that until commit."""
        status = conn.execute(
            select(JobRun.status).where(JobRun.id == self.run_id).with_for_update(read=True)
        ).scalar()
        if status != "RUNNING":
            raise StaleRun(
                f"run {self.run_id} is no longer this worker's (now {status}): stopping "
                "without writing; the worker that took it over resumes from the checkpoint"
            )


def check_fence(conn: Connection | Session, fence: Fence | None) -> None:
    """`fence.check(conn)`, or nothing for a writer outside the engine (fence None)."""
    if fence is not None:
        fence.check(conn)
