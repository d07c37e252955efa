"""Work-item queries a source's sync needs beyond `storage.load.upsert`.

Every function runs in the caller's transaction. ``client_id``/``integration_id`` name the
integration whose items are meant (`work_items` rows are per integration).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from datetime import datetime

from psycopg import sql
from sqlalchemy import Connection, select, text

from storage.models import WorkItem

_temp_names = itertools.count()


def stored_versions(
    conn: Connection, client_id: int, integration_id: int, external_ids: Iterable[str]
) -> dict[str, tuple[datetime | None, str | None, bool]]:
    """``external_id → (updated_at, key, active)`` of the given items already stored."""
    wanted = list(external_ids)
    if not wanted:
        return {}
    rows = conn.execute(
        select(WorkItem.external_id, WorkItem.updated_at, WorkItem.key, WorkItem.active).where(
            WorkItem.client_id == client_id,
            WorkItem.integration_id == integration_id,
            WorkItem.external_id.in_(wanted),
        )
    )
    return {r.external_id: (r.updated_at, r.key, r.active) for r in rows}


def any_stored(conn: Connection, client_id: int, integration_id: int) -> bool:
    """Whether the integration has any work item stored (active or not)."""
    found = conn.execute(
        select(WorkItem.id)
        .where(WorkItem.client_id == client_id, WorkItem.integration_id == integration_id)
        .limit(1)
    ).first()
    return found is not None


def stored_dev_summaries(
    conn: Connection, client_id: int, integration_id: int, external_ids: Iterable[str]
) -> dict[str, str | None]:
    """``external_id → dev_summary`` of the given items already stored."""
    wanted = list(external_ids)
    if not wanted:
        return {}
    rows = conn.execute(
        select(WorkItem.external_id, WorkItem.dev_summary).where(
            WorkItem.client_id == client_id,
            WorkItem.integration_id == integration_id,
            WorkItem.external_id.in_(wanted),
        )
    )
    return {r.external_id: r.dev_summary for r in rows}


def remove_stale_links(
    conn: Connection, client_id: int, work_item_ids: Sequence[int], evidence: str, kept: set[int]
) -> int:
    """Links of these items with this ``evidence`` whose ids are not in ``kept`` (the source
    no longer shows them: unlinked, deleted pull requests); returns how many went."""
    if not work_item_ids:
        return 0
    # One statement (one round trip): the writer of a sync calls this for every page.
    gone = conn.execute(
        text(
            "DELETE FROM work_item_links WHERE client_id = :c AND work_item_id = ANY(:items)"
            " AND evidence = :evidence AND id <> ALL(:kept)"
        ),
        {"c": client_id, "items": list(work_item_ids), "evidence": evidence, "kept": list(kept)},
    )
    return int(gone.rowcount)


def reconcile(
    conn: Connection, client_id: int, integration_id: int, source_ids: Iterable[str]
) -> tuple[int, list[str]]:
    """Compare every id the source shows with the table.

    Marks stored items the source no longer shows as inactive, and returns the ids the
    source shows that the table lacks or holds as inactive (to be fetched again).
    """
    raw = conn.connection.driver_connection
    assert raw is not None
    temp = sql.Identifier(f"_source_ids_{next(_temp_names)}")
    with raw.cursor() as cur:
        cur.execute(
            sql.SQL("CREATE TEMP TABLE {} (external_id text PRIMARY KEY) ON COMMIT DROP").format(
                temp
            )
        )
        with cur.copy(sql.SQL("COPY {} (external_id) FROM STDIN").format(temp)) as copy:
            for external_id in set(source_ids):
                copy.write_row((external_id,))
        cur.execute(
            sql.SQL(
                "UPDATE work_items w SET active = false"
                " WHERE w.client_id = %s AND w.integration_id = %s AND w.active"
                " AND NOT EXISTS (SELECT 1 FROM {} s WHERE s.external_id = w.external_id)"
            ).format(temp),
            (client_id, integration_id),
        )
        deactivated = cur.rowcount
        cur.execute(
            sql.SQL(
                "SELECT s.external_id FROM {} s LEFT JOIN work_items w"
                " ON w.client_id = %s AND w.integration_id = %s AND w.external_id = s.external_id"
                " WHERE w.id IS NULL OR NOT w.active"
            ).format(temp),
            (client_id, integration_id),
        )
        missing = sorted((str(r[0]) for r in cur.fetchall()), key=_numeric)
        cur.execute(sql.SQL("DROP TABLE {}").format(temp))
    return deactivated, missing


def _numeric(value: str) -> tuple[int, str]:
    return (int(value), "") if value.isdigit() else (0, value)


def quality_summary(conn: Connection, client_id: int, integration_id: int) -> dict[str, int]:
    """Data-quality counts after a run (shown in the summary; nothing is changed)."""
    params = {"c": client_id, "i": integration_id}
    unmapped = conn.execute(
        text(
            "SELECT count(*) FROM work_items w WHERE w.client_id = :c AND w.integration_id = :i"
            " AND w.active AND w.status IS NOT NULL AND NOT EXISTS (SELECT 1 FROM status_mappings m"
            " WHERE m.client_id = w.client_id AND m.active"
            " AND lower(m.status_name) = lower(w.status))"
        ),
        params,
    ).scalar_one()
    unknown = conn.execute(
        text(
            "SELECT count(*) FROM work_item_transitions x WHERE x.client_id = :c"
            " AND x.integration_id = :i AND x.field = 'status' AND x.to_id IS NOT NULL"
            " AND NOT EXISTS (SELECT 1 FROM statuses s WHERE s.client_id = x.client_id"
            " AND s.integration_id = x.integration_id AND s.external_id = x.to_id)"
        ),
        params,
    ).scalar_one()
    unsynced = conn.execute(
        text(
            "SELECT count(DISTINCT l.repository) FROM work_item_links l"
            " JOIN work_items w ON w.id = l.work_item_id"
            " WHERE w.client_id = :c AND w.integration_id = :i AND l.repository IS NOT NULL"
            " AND NOT EXISTS (SELECT 1 FROM repositories r WHERE r.client_id = l.client_id"
            " AND lower(r.full_name) = lower(l.repository))"
        ),
        params,
    ).scalar_one()
    return {
        "issues_with_unmapped_status": int(unmapped),
        "transitions_to_unknown_status": int(unknown),
        "linked_repositories_not_synced": int(unsynced),
    }
