"""Pull-request queries a code-hosting sync needs beyond `storage.load.upsert`: what Jira
already knows (keys, dev-status repositories), and removing rows the source no longer has.

Every function runs in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, text

# The child tables of a pull request and the column that identifies a row within one.
CHILD_KEYS = {"pr_commits": "sha", "pr_reviews": "external_id", "pr_comments": "external_id"}


def dev_status_references(conn: Connection, client_id: int) -> list[tuple[str | None, str | None]]:
    """``(repository, url)`` of every pull request Jira's dev-status panels link."""
    rows = conn.execute(
        text(
            "SELECT DISTINCT repository, url FROM work_item_links"
            " WHERE client_id = :c AND evidence = 'dev_status'"
        ),
        {"c": client_id},
    ).all()
    return [(r[0], r[1]) for r in rows]


def known_project_keys(conn: Connection, client_id: int) -> list[str]:
    """Project keys of the client's synced projects and work items."""
    rows = conn.execute(
        text(
            "SELECT key FROM projects WHERE client_id = :c UNION "
            "SELECT DISTINCT project_key FROM work_items"
            " WHERE client_id = :c AND project_key IS NOT NULL"
        ),
        {"c": client_id},
    ).scalars()
    return [k for k in rows if k]


def resolve_keys(conn: Connection, client_id: int, keys: Sequence[str]) -> dict[str, int]:
    """Upper-case key → work item id; a key an issue had before it moved resolves through
    the changelog's ``Key`` transition (the current key wins)."""
    if not keys:
        return {}
    out: dict[str, int] = {}
    params = {"c": client_id, "k": list(keys)}
    for key, wid in conn.execute(
        text(
            "SELECT upper(t.from_value), t.work_item_id FROM work_item_transitions t"
            " WHERE t.client_id = :c AND t.field = 'Key' AND upper(t.from_value) = ANY(:k)"
        ),
        params,
    ):
        out[key] = int(wid)
    for key, wid in conn.execute(
        # Aha! reference numbers often share a Jira project's prefix (PAY-12 in both);
        # code names the engineering item, never the plan.
        text(
            "SELECT upper(key), min(id) FROM work_items WHERE client_id = :c"
            " AND source <> 'aha' AND upper(key) = ANY(:k) GROUP BY upper(key)"
        ),
        params,
    ):
        out[key] = int(wid)
    return out


def delete_missing_children(
    conn: Connection,
    table: str,
    client_id: int,
    pr_ids: Sequence[int],
    keep: Iterable[tuple[int, str]],
) -> None:
    """Rows of ``table`` (a `CHILD_KEYS` table) under these pull requests that are not in
    ``keep`` (pull_request_id, key): a force-push replaced commits, a comment was deleted."""
    column = CHILD_KEYS[table]
    kept = list(keep)
    conn.execute(
        text(
            f"DELETE FROM {table} WHERE client_id = :c AND pull_request_id = ANY(:p)"
            f" AND (pull_request_id, {column}) NOT IN"
            " (SELECT * FROM unnest(CAST(:kp AS bigint[]), CAST(:kv AS text[])))"
        ),
        {"c": client_id, "p": list(pr_ids), "kp": [k[0] for k in kept], "kv": [k[1] for k in kept]},
    )


def delete_stale_key_links(
    conn: Connection,
    client_id: int,
    evidence: Sequence[str],
    urls: Sequence[str],
    keep: Sequence[dict[str, Any]],
) -> None:
    """Pull-request links of these URLs with this ``evidence`` that are not in ``keep``
    (link rows just written): the key left the title, branch or commits."""
    conn.execute(
        text(
            "DELETE FROM work_item_links WHERE client_id = :c AND kind = 'pull_request'"
            " AND evidence = ANY(:ev) AND url = ANY(:urls)"
            " AND (work_item_id, url, evidence) NOT IN"
            " (SELECT * FROM unnest(CAST(:w AS bigint[]), CAST(:u AS text[]),"
            " CAST(:e AS text[])))"
        ),
        {
            "c": client_id,
            "ev": list(evidence),
            "urls": list(urls),
            "w": [r["work_item_id"] for r in keep],
            "u": [r["url"] for r in keep],
            "e": [r["evidence"] for r in keep],
        },
    )
