"""`work_item_revision_heads`: the tracked fields of the newest revision a sync has read per
work item, so a revision read later is compared with its predecessor (migration 0007)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Connection, select

from storage.load import upsert
from storage.models import WorkItemRevisionHead

Head = tuple[int, dict[str, Any]]  # (rev, fields)


def read_heads(conn: Connection, work_item_ids: Iterable[int]) -> dict[int, Head]:
    rows = conn.execute(
        select(
            WorkItemRevisionHead.work_item_id,
            WorkItemRevisionHead.rev,
            WorkItemRevisionHead.fields,
        ).where(WorkItemRevisionHead.work_item_id.in_(list(work_item_ids)))
    )
    return {int(w): (int(rev), dict(fields)) for w, rev, fields in rows}


def save_heads(conn: Connection, client_id: int, heads: Mapping[int, Head]) -> None:
    upsert(
        conn,
        WorkItemRevisionHead,
        [
            {"work_item_id": w, "client_id": client_id, "rev": rev, "fields": fields}
            for w, (rev, fields) in heads.items()
        ],
        key=["work_item_id"],
    )
