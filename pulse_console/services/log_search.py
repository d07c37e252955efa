"""Free-text search in log_entries.message, with the query plan chosen here, not guessed.

PostgreSQL estimates badly how many rows an `ILIKE '%…%'` matches and cannot know where in
time they lie, so left alone it walks the (ts, id) index for rare words and reads the whole
trigram index for one-letter ones: each well over the 200 ms a filter may take on a million
rows. A page is therefore found in two steps:

1. the probe scans the newest PROBE_ROWS candidate rows (other filters and the cursor
   applied) in key order: a common word, or a narrow filter, is answered here;
2. otherwise every match comes from the trigram index (migration 0004) with the key-order
   walk ruled out, and the first `limit` in key order are kept. Where the index is missing,
   PostgreSQL picks its own plan (a scan either way). The matches come from
   `pulse_log_matches(client, pattern)` (migration 0017): under row-level security `ILIKE`
   (not LEAKPROOF) may not use the index, so that function runs the indexed query as the
   schema's owner after checking that the login may read the client.

A text without three letters or digits in a row (`x`, `qz`, `~`, `...`) gives the index
nothing to look up: finding a rare one means reading every row (0.7 s on a million). Such a
text is therefore looked for among the newest SHORT_SCAN_ROWS rows from the cursor only, and
the page says so (`TextSearch.run` returns whether older rows were left unsearched). That
window is searched by `pulse_log_window` (migration 0026), for the same reason and with the
same check as `pulse_log_matches`: under row-level security the login's own query scanned
the whole window where the owner's looks the text up in the trigram index. A text
longer than MAX_TEXT characters is refused (`SearchRefused`): its cost grows with its length.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ColumnElement,
    Connection,
    DateTime,
    Integer,
    Text,
    and_,
    cast,
    column,
    func,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql import visitors
from sqlalchemy.sql.expression import UnaryExpression

from storage.models import LogEntry

PROBE_ROWS = 10_000  # a few ms to scan; a word in 2 % of recent rows fills a page from it
SHORT_SCAN_ROWS = 50_000  # the short-text window: ~50 ms to scan (benchmarks/bench_logs.py)
MAX_TEXT = 200  # characters of a search text
TRIGRAM_INDEX = "ix_log_entries_message_trgm"  # migration 0004; absent without pg_trgm
_TRIGRAM = re.compile(r"[A-Za-z0-9]{3}")
_TABLE = LogEntry.__table__.c


class SearchRefused(ValueError):
    """A search text the log view will not run; `str()` says why and what to do."""


def check_text(text: str | None) -> None:
    """Refuse a search text longer than MAX_TEXT characters."""
    if text is not None and len(text) > MAX_TEXT:
        raise SearchRefused(
            f"search text too long ({len(text)} characters; at most {MAX_TEXT}): "
            "search for a shorter, distinctive part of it"
        )


def indexable(text: str) -> bool:
    """Does the trigram index have anything to look up for `text`?"""
    return _TRIGRAM.search(text) is not None


def pattern(text: str) -> str:
    """The ILIKE pattern (backslash escapes) of a substring: `%`, `_` and `\\` literal."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def contains(
    column: ColumnElement[str] | InstrumentedAttribute[str] | InstrumentedAttribute[str | None],
    text: str,
) -> ColumnElement[bool]:
    """Case-insensitive substring match that takes `%`, `_` and `\\` literally."""
    return column.ilike(pattern(text), escape="\\")


def _matches(client_id: int | None, text: str) -> Any:
    """The client's rows containing `text`, from the trigram index whatever the login
    (`pulse_log_matches`, migration 0017), as a FROM item with log_entries' columns."""
    names = [column(c.name, c.type) for c in _TABLE]
    return func.pulse_log_matches(client_id, pattern(text)).table_valued(*names).alias("m")


def _on(source: Any, condition: ColumnElement[bool]) -> ColumnElement[bool]:
    """`condition` with log_entries' columns read from `source` instead."""

    def swap(element: Any, **kw: Any) -> Any:
        if isinstance(element, Column) and element.table is LogEntry.__table__:
            found: ColumnElement[Any] = source.c[element.name]
            return found
        return None

    no_options: dict[str, Any] = {}
    return visitors.replacement_traverse(condition, no_options, swap)


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


Key = tuple[datetime, int]  # (ts, id) of a row: the keyset order


@dataclass(frozen=True)
class Candidates:
    """The filter of a search's candidate rows, as values (`pulse_log_window` takes them);
    `after`/`before` are exclusive cursor keys."""

    levels: frozenset[str] = frozenset()
    job: str | None = None
    run_id: int | None = None
    after: Key | None = None
    before: Key | None = None


def _window(client_id: int | None, candidates: Candidates, text: str, limit: int) -> Any:
    """The short-text window search of migration 0026 as a FROM item: matching rows with
    `hit` true, then the window's edge row (`hit` false) when the window was full."""
    c = candidates
    stamp, big = DateTime(timezone=True), BigInteger()
    after, before = c.after or (None, None), c.before or (None, None)
    args = (
        cast(client_id, big),
        cast(sorted(c.levels) or None, ARRAY(Text)),
        cast(c.job, Text),
        cast(c.run_id, big),
        cast(after[0], stamp),
        cast(after[1], big),
        cast(before[0], stamp),
        cast(before[1], big),
        cast(SHORT_SCAN_ROWS, Integer),
        cast(limit, Integer),
        cast(pattern(text), Text),
    )
    names = [column(c.name, c.type) for c in _TABLE if c.name not in ("client_id", "extra")]
    return func.pulse_log_window(*args).table_valued(*names, column("hit", Boolean)).alias("w")


@dataclass(frozen=True)
class TextSearch:
    """Up to `limit` rows of client `client_id` matching `where` and containing `text`, in
    key order (`where` holds the client condition too; `client_id` picks the index path;
    `candidates` is `where` without the client, as values, for the short-text window)."""

    client_id: int | None
    where: Sequence[ColumnElement[bool]]
    candidates: Candidates
    text: str
    ascending: bool
    limit: int
    preview: int  # characters of each message fetched

    def run(self, conn: Connection) -> tuple[list[Sequence[Any]], bool]:
        """The matching rows, and whether older candidates were left unsearched (a text the
        index cannot look up is searched for in the newest SHORT_SCAN_ROWS rows only)."""
        hits, window_full = self._probe(conn, PROBE_ROWS)
        if len(hits) >= self.limit or not window_full:
            return hits[: self.limit], False
        if not indexable(self.text):
            return self._near_the_view(conn)
        if conn.execute(select(func.to_regclass(TRIGRAM_INDEX))).scalar() is not None:
            conn.exec_driver_sql("SET LOCAL enable_indexscan = off")  # ends with this transaction
        found = _matches(self.client_id, self.text)
        stmt = (
            select(*row_columns(found.c, self.preview))
            .where(*(_on(found, condition) for condition in self.where))
            .order_by(*key_order(found.c, self.ascending))
            .limit(self.limit)
        )
        return list(conn.execute(stmt).all()), False

    def _near_the_view(self, conn: Connection) -> tuple[list[Sequence[Any]], bool]:
        """Matches among the SHORT_SCAN_ROWS candidates nearest the cursor (the window's far
        edge is found on the key index, then the range up to it is searched), as the
        schema's owner searches them: `pulse_log_window`, migration 0026."""
        found = _window(self.client_id, self.candidates, self.text, self.limit)
        stmt = select(*row_columns(found.c, self.preview), found.c.hit).order_by(
            *key_order(found.c, self.ascending)
        )
        rows = conn.execute(stmt).all()
        hits: list[Sequence[Any]] = [row[:-1] for row in rows if row.hit]
        window_full = any(not row.hit for row in rows)
        return hits, window_full and len(hits) < self.limit

    def _probe(self, conn: Connection, rows: int) -> tuple[list[Sequence[Any]], bool]:
        """Matches among the first `rows` candidates, and whether there were that many.

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
            .limit(rows)
            .subquery()
        )
        matched = contains(window.c.message, self.text)
        stmt = (
            select(*row_columns(window.c, self.preview), matched.label("hit"), window.c.position)
            .where(or_(matched, window.c.position == rows))
            .order_by(*key_order(window.c, self.ascending))  # the window's order: rows stream
            .limit(self.limit + 1)
        )
        found = conn.execute(stmt).all()
        full = any(row.position == rows for row in found)
        return [row for row in found if row.hit], full
