"""Log records in `log_entries`: filtered, keyset-paged on (ts, id), never loaded whole.

Pages come back oldest-first (the order a log is read in); cursors are `(ts, id)` of an edge
row, so paging forwards and backwards through millions of rows costs one index range scan.
A free-text filter plans its own page (log_search.py): PostgreSQL's guess at it is poor.
"""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, and_, false, func, select, tuple_

from pulse_console.services import audit, log_search
from storage.db import Database
from storage.models import Client, LogEntry

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
MESSAGE_PREVIEW = 2000  # characters of a message fetched for the table; detail loads all


@dataclass(frozen=True)
class LogFilter:
    """What the operator asked to see; empty means everything."""

    levels: frozenset[str] = frozenset()
    job: str | None = None
    run_id: int | None = None
    text: str | None = None

    def __post_init__(self) -> None:
        log_search.check_text(self.text)  # SearchRefused: one line the console shows

    @property
    def empty(self) -> bool:
        return not (self.levels or self.job or self.run_id is not None or self.text)

    def describe(self) -> str:
        parts = []
        if self.levels:
            parts.append("level:" + ",".join(sorted(self.levels)))
        if self.job:
            parts.append(f"job:{self.job}")
        if self.run_id is not None:
            parts.append(f"run:{self.run_id}")
        if self.text:
            parts.append(self.text)
        return " ".join(parts)


_TOKEN = re.compile(r"^(level|job|run):(\S+)$", re.IGNORECASE)


def parse_filter(query: str) -> LogFilter:
    """`level:error,warning job:sandbox-jira run:12 slow` → a LogFilter (unknown words = text)."""
    levels: set[str] = set()
    job: str | None = None
    run_id: int | None = None
    words: list[str] = []
    for word in query.split():
        match = _TOKEN.match(word)
        if not match:
            words.append(word)
            continue
        key, value = match.group(1).lower(), match.group(2)
        if key == "level":
            levels.update(v.upper() for v in value.split(",") if v.upper() in LEVELS)
        elif key == "job":
            job = value
        elif value.isdigit():
            run_id = int(value)
        else:
            words.append(word)
    return LogFilter(frozenset(levels), job, run_id, " ".join(words) or None)


@dataclass(frozen=True)
class Cursor:
    ts: datetime
    id: int


@dataclass(frozen=True)
class LogRecord:
    id: int
    ts: datetime
    level: str
    job: str | None
    run_id: int | None
    logger: str
    message: str
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def cursor(self) -> Cursor:
        return Cursor(self.ts, self.id)

    def as_json(self) -> str:
        return json.dumps(
            {
                "ts": self.ts.isoformat(),
                "level": self.level,
                "job": self.job,
                "run_id": self.run_id,
                "logger": self.logger,
                "message": self.message,
                **({"extra": self.extra} if self.extra else {}),
            },
            ensure_ascii=False,
            default=str,
        )


@dataclass(frozen=True)
class LogPage:
    """Rows oldest-first; `more_before`/`more_after` say whether paging further finds rows."""

    records: list[LogRecord]
    more_before: bool
    more_after: bool
    note: str = ""  # what the page leaves out and why (a short search text's window)


SHORT_SEARCH_NOTE = (
    f"a text without three letters or digits in a row is looked for in the "
    f"{log_search.SHORT_SCAN_ROWS:,} rows nearest the view only; type a longer text to search all"
)


_COLUMNS = log_search.row_columns(LogEntry.__table__.c, MESSAGE_PREVIEW)


def _conditions(client_id: int | None, flt: LogFilter) -> list[ColumnElement[bool]]:
    # A client sees its own rows only. A row without a client (written outside any client's
    # work) belongs to nobody a client-bound view may show: only someone who may read the
    # whole table (the database's owner) sees it.
    where: list[ColumnElement[bool]] = [
        LogEntry.client_id == client_id if client_id is not None else false()
    ]
    if flt.levels:
        where.append(LogEntry.level.in_(sorted(flt.levels)))
    if flt.job:
        where.append(LogEntry.job == flt.job)
    if flt.run_id is not None:
        where.append(LogEntry.run_id == flt.run_id)
    if flt.text:
        where.append(log_search.contains(LogEntry.message, flt.text))
    return where


def _client_id(database: Database, client: str) -> int | None:
    with database.engine.connect() as conn:
        value = conn.execute(select(Client.id).where(Client.name == client)).scalar()
    return None if value is None else int(value)


def _page(
    database: Database,
    client: str,
    flt: LogFilter,
    limit: int,
    *,
    before: Cursor | None = None,
    after: Cursor | None = None,
) -> _Found:
    client_id = _client_id(database, client)
    where = _conditions(client_id, replace(flt, text=None))
    key = tuple_(LogEntry.ts, LogEntry.id)
    if after is not None:
        where.append(key > tuple_(after.ts, after.id))
    if before is not None:
        where.append(key < tuple_(before.ts, before.id))
    ascending = after is not None
    partial = False
    with database.engine.connect() as conn:
        if flt.text:
            candidates = log_search.Candidates(
                flt.levels,
                flt.job,
                flt.run_id,
                None if after is None else (after.ts, after.id),
                None if before is None else (before.ts, before.id),
            )
            search = log_search.TextSearch(
                client_id, where, candidates, flt.text, ascending, limit, MESSAGE_PREVIEW
            )
            rows, partial = search.run(conn)
        else:
            stmt = select(*_COLUMNS).where(and_(*where))
            order = log_search.key_order(LogEntry, ascending)
            rows = list(conn.execute(stmt.order_by(*order).limit(limit)).all())
    records = [LogRecord(r[0], r[1], r[2], r[3], r[4], r[5], r[6]) for r in rows]
    return _Found(records if ascending else list(reversed(records)), partial)


@dataclass(frozen=True)
class _Found:
    records: list[LogRecord]
    partial: bool  # rows beyond a short search's window were not searched

    def page(self, limit: int, *, forwards: bool, at_edge: bool) -> LogPage:
        """The page of `limit` rows; `at_edge`: it was fetched from the newest end (tail)."""
        more = len(self.records) > limit
        note = SHORT_SEARCH_NOTE if self.partial else ""
        if forwards:
            return LogPage(self.records[:limit], True, more or self.partial, note)
        rows = self.records[-limit:] if more else self.records
        return LogPage(rows, more or self.partial, not at_edge, note)


def latest(database: Database, client: str, flt: LogFilter, limit: int = 200) -> LogPage:
    """The newest `limit` matching rows (the tail)."""
    return _page(database, client, flt, limit + 1).page(limit, forwards=False, at_edge=True)


def older(
    database: Database, client: str, flt: LogFilter, cursor: Cursor, limit: int = 200
) -> LogPage:
    """Up to `limit` rows just before `cursor`."""
    found = _page(database, client, flt, limit + 1, before=cursor)
    return found.page(limit, forwards=False, at_edge=False)


def newer(
    database: Database, client: str, flt: LogFilter, cursor: Cursor, limit: int = 200
) -> LogPage:
    """Up to `limit` rows just after `cursor` (what follow mode appends)."""
    return _page(database, client, flt, limit + 1, after=cursor).page(
        limit, forwards=True, at_edge=False
    )


def at_time(
    database: Database, client: str, flt: LogFilter, ts: datetime, limit: int = 200
) -> LogPage:
    """The page starting at the first row at or after `ts` ("jump to a time")."""
    start = Cursor(ts, 0)
    page = newer(database, client, flt, start, limit)
    return replace(page, more_before=True)


def count_newer(
    database: Database, client: str, flt: LogFilter, cursor: Cursor, cap: int = 10_000
) -> int:
    """How many matching rows arrived after `cursor` (capped: the badge says "10000+")."""
    where = _conditions(_client_id(database, client), flt)
    key = tuple_(LogEntry.ts, LogEntry.id)
    inner = (
        select(LogEntry.id).where(and_(*where), key > tuple_(cursor.ts, cursor.id)).limit(cap)
    ).subquery()
    with database.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(inner)).scalar_one())


def detail(database: Database, client: str, record_id: int) -> LogRecord | None:
    """One record in full: the whole message and its structured `extra`; None when it is
    not one the client's log shows (another client's record counts as missing)."""
    where = _conditions(_client_id(database, client), LogFilter())
    with database.engine.connect() as conn:
        row = conn.execute(select(LogEntry).where(LogEntry.id == record_id, *where)).first()
    if row is None:
        return None
    entry = row._mapping
    return LogRecord(
        entry["id"],
        entry["ts"],
        entry["level"],
        entry["job"],
        entry["run_id"],
        entry["logger"],
        entry["message"],
        dict(entry["extra"] or {}),
    )


def iter_matching(
    database: Database, client: str, flt: LogFilter, batch: int = 5000
) -> Iterator[LogRecord]:
    """Every matching row, oldest first, in keyset batches (for export)."""
    where = _conditions(_client_id(database, client), flt)
    cursor: Cursor | None = None
    while True:
        stmt = select(LogEntry).where(and_(*where))
        if cursor is not None:
            stmt = stmt.where(tuple_(LogEntry.ts, LogEntry.id) > tuple_(cursor.ts, cursor.id))
        stmt = stmt.order_by(LogEntry.ts, LogEntry.id).limit(batch)
        with database.engine.connect() as conn:
            rows = [r._mapping for r in conn.execute(stmt)]
        for m in rows:
            yield LogRecord(
                m["id"],
                m["ts"],
                m["level"],
                m["job"],
                m["run_id"],
                m["logger"],
                m["message"],
                dict(m["extra"] or {}),
            )
        if len(rows) < batch:
            return
        cursor = Cursor(rows[-1]["ts"], rows[-1]["id"])


def export_zip(database: Database, client: str, flt: LogFilter, dest: Path, *, actor: str) -> int:
    """Write the matching rows as JSON lines into a zip at `dest`; audited. Returns the count."""
    count = 0
    dest.parent.mkdir(parents=True, exist_ok=True)
    with (
        zipfile.ZipFile(dest, "w", compression=zipfile.ZIP_DEFLATED) as archive,
        archive.open("log_entries.jsonl", "w") as out,
    ):
        for record in iter_matching(database, client, flt):
            out.write(record.as_json().encode() + b"\n")
            count += 1
    with database.session() as session:
        audit.record(
            session,
            client,
            actor,
            "logs.export",
            str(dest),
            {"filter": flt.describe(), "records": count},
        )
    return count
