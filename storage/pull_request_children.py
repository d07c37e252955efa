"""Commits, reviews and comments a pull request no longer has (a force-push, a vote reset to
0, a deleted comment) are removed when the pull request is loaded again."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import Connection, text

# child table → the column that, with pull_request_id, names a row
CHILD_KEYS = {"pr_commits": "sha", "pr_reviews": "external_id", "pr_comments": "external_id"}


def delete_missing_children(
    conn: Connection,
    table: str,
    client_id: int,
    pull_request_ids: Sequence[int],
    keep: Iterable[tuple[int, str]],
) -> None:
    """Rows of ``table`` under these pull requests that are not in ``keep``."""
    column = CHILD_KEYS[table]
    kept = list(keep)
    conn.execute(
        text(
            f"DELETE FROM {table} WHERE client_id = :c AND pull_request_id = ANY(:p)"
            f" AND (pull_request_id, {column}) NOT IN"
            " (SELECT * FROM unnest(CAST(:kp AS bigint[]), CAST(:kv AS text[])))"
        ),
        {
            "c": client_id,
            "p": list(pull_request_ids),
            "kp": [k[0] for k in kept],
            "kv": [k[1] for k in kept],
        },
    )
