"""Pull-request links a source no longer reports (a removed work item relation, a PR's work
item list that changed) are removed when either end is loaded again."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import Connection, text


def delete_stale_links(
    conn: Connection,
    client_id: int,
    evidence: str,
    *,
    work_item_ids: Sequence[int] = (),
    urls: Sequence[str] = (),
    keep: Iterable[tuple[int, str]] = (),
) -> None:
    """Links with this ``evidence`` of these work items or to these pull request URLs
    that are not among ``keep`` (work item id, url)."""
    kept = list(keep)
    conn.execute(
        text(
            "DELETE FROM work_item_links WHERE client_id = :c AND kind = 'pull_request'"
            " AND evidence = :e AND (work_item_id = ANY(:w) OR url = ANY(:u))"
            " AND (work_item_id, url) NOT IN"
            " (SELECT * FROM unnest(CAST(:kw AS bigint[]), CAST(:ku AS text[])))"
        ),
        {
            "c": client_id,
            "e": evidence,
            "w": list(work_item_ids),
            "u": list(urls),
            "kw": [k[0] for k in kept],
            "ku": [k[1] for k in kept],
        },
    )
