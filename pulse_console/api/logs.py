"""`/api/v1/clients/{client}/logs`: log records with the console's filters (levels, job,
run, text — or the Logs screen's query syntax `q=level:error job:x text`) and keyset
paging: the answer's `older`/`newer` cursors go back as `before`/`after`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request

from pulse_console.api import problems, schemas
from pulse_console.api.authz import Reads, acting, actor
from pulse_console.api.problems import Problem
from pulse_console.services.log_search import SearchRefused
from pulse_console.services.logs import LEVELS, Cursor, LogFilter, LogRecord, parse_filter

router = APIRouter(
    prefix="/api/v1/clients/{client}", tags=["logs"], responses=problems.CLIENT_ROUTE
)


def encode_cursor(cursor: Cursor) -> str:
    return f"{cursor.id}@{cursor.ts.isoformat()}"


def decode_cursor(value: str | None, name: str) -> Cursor | None:
    if value is None:
        return None
    record_id, _, ts = value.partition("@")
    try:
        when = datetime.fromisoformat(ts)
        if when.tzinfo is None or not record_id.isdigit():
            raise ValueError(value)
        return Cursor(when, int(record_id))
    except ValueError:
        raise Problem(422, f"{name}: not a cursor of this API ({value!r})") from None


def _filter(
    q: str | None, level: list[str], job: str | None, run: int | None, text: str | None
) -> LogFilter:
    try:
        base = parse_filter(q or "")
        levels = {v.upper() for v in level}
        unknown = sorted(levels - set(LEVELS))
        if unknown:
            raise Problem(422, f"level: unknown level {unknown[0]!r} (one of {', '.join(LEVELS)})")
        words = " ".join(w for w in (base.text, text) if w) or None
        return LogFilter(
            base.levels | frozenset(levels),
            job or base.job,
            run if run is not None else base.run_id,
            words,
        )
    except SearchRefused as exc:
        raise Problem(422, str(exc)) from None


def _entry(record: LogRecord) -> schemas.LogEntry:
    return schemas.LogEntry(
        id=record.id,
        ts=record.ts,
        level=record.level,
        job=record.job,
        run_id=record.run_id,
        logger=record.logger,
        message=record.message,
        extra=record.extra,
    )


@router.get(
    "/logs", response_model=schemas.LogPage, responses=problems.responses(401, 403, 404, 422, 429)
)
def logs(
    request: Request,
    client: str,
    caller: Reads,
    q: Annotated[
        str | None, Query(description="the Logs screen's filter: `level:error job:x text`")
    ] = None,
    level: Annotated[list[str] | None, Query(description="levels to show (repeatable)")] = None,
    job: str | None = None,
    run: int | None = Query(None, ge=1, le=problems.MAX_ID),
    text: str | None = Query(None, description="text the message contains"),
    before: str | None = Query(None, description="the page before this cursor (`older`)"),
    after: str | None = Query(None, description="the page after this cursor (`newer`)"),
    at: Annotated[datetime | None, Query(description="records from this time on")] = None,
    limit: int = Query(200, ge=1, le=1000),
) -> schemas.LogPage:
    """A page of log records, oldest first (the newest page unless a cursor or time)."""
    face = acting(request, caller)
    face.require_client(client)
    flt = _filter(q, level or [], job, run, text)
    if at is not None and at.tzinfo is None:
        raise Problem(422, "at: give a time zone (e.g. 2026-12-03T08:00:00Z)")
    page = face.client(client, actor(caller)).logs.page(
        flt,
        before=decode_cursor(before, "before"),
        after=decode_cursor(after, "after"),
        at=at,
        limit=limit,
    )
    records = page.records
    return schemas.LogPage(
        records=[_entry(r) for r in records],
        more_before=page.more_before,
        more_after=page.more_after,
        older=encode_cursor(records[0].cursor) if records and page.more_before else None,
        newer=encode_cursor(records[-1].cursor) if records and page.more_after else None,
        note=page.note,
    )
