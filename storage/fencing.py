"""Fencing: a write made on behalf of a run commits only while its writer still leads.

The advisory lock says who leads a client *now*; it cannot stop a process that lost the lock
(its connection was terminated, it hung past a takeover) from going on writing. So every
takeover increments the client's epoch in `leader_epochs` (`take_epoch`), and every write
transaction made on behalf of a run first calls `Fence.check` in that same transaction:
``SELECT … FOR SHARE`` on the epoch row. A takeover's increment waits for transactions that
already passed the check to commit, and every transaction that starts after it finds the new
epoch and raises `StaleLeader` before writing anything.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from storage.models import LeaderEpoch


class StaleLeader(RuntimeError):
    """This process no longer leads the client: it must stop without writing anything more."""


@dataclass(frozen=True)
class Fence:
    """The epoch a writer took the client's leadership with."""

    client_id: int
    epoch: int

    def check(self, conn: Connection | Session) -> None:
        """Raise `StaleLeader` unless the epoch is still current; hold it until commit."""
        current = conn.execute(
            select(LeaderEpoch.epoch)
            .where(LeaderEpoch.client_id == self.client_id)
            .with_for_update(read=True)
        ).scalar()
        if current != self.epoch:
            raise StaleLeader(
                f"lost the leadership of client {self.client_id} (epoch {self.epoch}, "
                f"now {current}): stopping without writing; the new leader resumes the job"
            )


def take_epoch(conn: Connection, client_id: int, holder: str) -> Fence:
    """Start a new epoch for the client (call right after taking its lock); returns its fence."""
    stmt = insert(LeaderEpoch).values(client_id=client_id, epoch=1, holder=holder)
    epoch = conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[LeaderEpoch.client_id],
            set_={
                "epoch": LeaderEpoch.epoch + 1,
                "holder": stmt.excluded.holder,
                "taken_at": func.now(),
            },
        ).returning(LeaderEpoch.epoch)
    ).scalar_one()
    return Fence(client_id, int(epoch))


def check_fence(conn: Connection | Session, fence: Fence | None) -> None:
    """`fence.check(conn)`, or nothing for a writer outside the engine (fence None)."""
    if fence is not None:
        fence.check(conn)
