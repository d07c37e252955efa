"""Free-text search in log_entries.message, with the query plan chosen here, not guessed.

PostgreSQL estimates badly how many rows an `ILIKE '%…%'` matches and cannot know where in
time they lie, so left alone it walks the (ts, id) index for rare words and reads the whole
trigram index for one-letter ones: each well over the 200 ms a filter may take on a million
rows. A page is therefore found in two steps:

1. the probe scans the newest PROBE_ROWS candidate rows (other filters and the cursor
   applied) in key order: a common word, or a narrow filter, is answered here;
2. otherwise every match comes from the trigram index (migration 0004) with the key-order
   walk ruled out, and the first `limit` in key order are kept. A text without three
   letters or digits in a row gives the index nothing to look up, so it gets a plain scan,
   which is cheaper than reading the whole index. Where the index is missing, PostgreSQL
   picks its own plan (a scan either way).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.expression import UnaryExpression

from storage.models import LogEntry

PROBE_ROWS = 10_000  # a few ms to scan; a word in 2 % of recent rows fills a page from it
TRIGRAM_INDEX = "ix_log_entries_message_trgm"  # migration 0004; absent without pg_trgm
_TRIGRAM = re.compile(r"[A-Za-z0-9]{3}")
_TABLE = LogEntry.__table__.c


def contains(
    column: ColumnElement[str] | InstrumentedAttribute[str], text: str
) -> ColumnElement[bool]:
    """Case-insensitive substring match that takes `%`, `_` and `\\` literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.ilike(f"%{escaped}%", escape="\\")


def row_columns(source: Any, preview: int) -> tuple[ColumnElement[Any], ...]:
    """The columns of a page row, from the table's or a subquery's column collection."""
    return (
        source.id,
        source.ts,
        source.level,
        source.job,
        source.run_id,
        source.logger,
        func.left(source.message, preview),
    )


def key_order(source: Any, ascending: bool) -> list[UnaryExpression[Any]]:
    if ascending:
        return [source.ts.asc(), source.id.asc()]
    return [source.ts.desc(), source.id.desc()]


@dataclass(frozen=True)
class TextSearch:
    """Up to `limit` rows matching `where` and containing `text`, in key order."""

    where: Sequence[ColumnElement[bool]]
    text: str
    ascending: bool
    limit: int
    preview: int  # characters of each message fetched

    def run(self, conn: Connection) -> list[Sequence[Any]]:
        hits, window_full = self._probe(conn)
        if len(hits) >= self.limit or not window_full:
            return hits[: self.limit]
        if conn.execute(select(func.to_regclass(TRIGRAM_INDEX))).scalar() is not None:
            setting = "enable_indexscan" if _TRIGRAM.search(self.text) else "enable_bitmapscan"
            conn.exec_driver_sql(f"SET LOCAL {setting} = off")  # ends with this transaction
        stmt = (
            select(*row_columns(_TABLE, self.preview))
            .where(and_(*self.where), contains(_TABLE.message, self.text))
            .order_by(*key_order(_TABLE, self.ascending))
            .limit(self.limit)
        )
        return list(conn.execute(stmt).all())

    def _probe(self, conn: Connection) -> tuple[list[Sequence[Any]], bool]:
        """Matches among the first PROBE_ROWS candidates, and whether there were that many.

        The text test sits outside the window's LIMIT, so PostgreSQL cannot trade the
        bounded key-order scan for the index. The window's last row comes back even when it
        does not match: its presence says the window was full (more candidates lie beyond).
        """
        order = key_order(_TABLE, self.ascending)
        window = (
            select(
                _TABLE.id,
                _TABLE.ts,
                _TABLE.level,
                _TABLE.job,
                _TABLE.run_id,
                _TABLE.logger,
                _TABLE.message,
                func.row_number().over(order_by=order).label("position"),
            )
            .where(and_(*self.where))
            .order_by(*order)
            .limit(PROBE_ROWS)
            .subquery()
        )
        matched = contains(window.c.message, self.text)
        stmt = (
            select(*row_columns(window.c, self.preview), matched.label("hit"), window.c.position)
            .where(or_(matched, window.c.position == PROBE_ROWS))
            .order_by(*key_order(window.c, self.ascending))  # the window's order: rows stream
            .limit(self.limit + 1)
        )
        rows = conn.execute(stmt).all()
        full = any(row.position == PROBE_ROWS for row in rows)
        return [row for row in rows if row.hit], full
