"""Rows of one integration found, or retired, by the source's own ids (`external_id`).

Sources that cannot list what disappeared (a deleted work item, a repository no longer
visible) retire rows here: they stay, inactive, never deleted (their history is kept).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, select, update

from storage.models import Goal, Release, Repository, WorkItem

Retirable = type[WorkItem] | type[Repository]
# Every table keyed by (client_id, integration_id, external_id) with an integer id.
Keyed = Retirable | type[Release] | type[Goal]


def ids_by_external_id(
    conn: Connection, model: Keyed, client_id: int, integration_id: int, ext: Iterable[str]
) -> dict[str, int]:
    """External id → row id of those present."""
    wanted = sorted(set(ext))
    if not wanted:
        return {}
    rows = conn.execute(
        select(model.external_id, model.id).where(
            model.client_id == client_id,
            model.integration_id == integration_id,
            model.external_id.in_(wanted),
        )
    )
    return {str(e): int(i) for e, i in rows}


def deactivate(
    conn: Connection, model: Retirable, client_id: int, integration_id: int, ext: Iterable[str]
) -> int:
    """Mark these rows inactive; → how many were active."""
    wanted = sorted(set(ext))
    if not wanted:
        return 0
    result = conn.execute(
        update(model)
        .where(
            model.client_id == client_id,
            model.integration_id == integration_id,
            model.external_id.in_(wanted),
            model.active.is_(True),
        )
        .values(active=False)
    )
    return int(result.rowcount or 0)


def deactivate_others(
    conn: Connection, model: Retirable, client_id: int, integration_id: int, keep: Iterable[Any]
) -> None:
    """Mark inactive every row of the integration not among ``keep``."""
    conn.execute(
        update(model)
        .where(
            model.client_id == client_id,
            model.integration_id == integration_id,
            model.external_id.not_in(list(keep) or [""]),
        )
        .values(active=False)
    )
