"""Log records: keyset paging, filters, follow counts and export, on the real database."""

from __future__ import annotations

import json
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert

from pulse_console.services import audit, logs
from pulse_console.services.logs import LogFilter, parse_filter
from storage.db import Database
from storage.models import LogEntry
from storage.tenancy import ensure_client

T0 = datetime(2026, 1, 15, 8, 0, tzinfo=UTC)


def seed(database: Database, count: int = 1000) -> None:
    with database.session() as session:
        cid = ensure_client(session, "acme")
        other = ensure_client(session, "other")
        session.execute(
            insert(LogEntry),
            [
                {
                    "client_id": cid if i % 10 else other,
                    "ts": T0 + timedelta(seconds=i // 2),  # pairs share a timestamp
                    "level": "ERROR" if i % 7 == 0 else "INFO",
                    "job": "sandbox-jira" if i % 2 else "sandbox-github",
                    "run_id": i // 100,
                    "logger": "pulse.test",
                    "message": f"record {i}" + (" timeout" if i % 13 == 0 else ""),
                    "extra": {"i": i},
                }
                for i in range(count)
            ],
        )


def test_parse_filter_reads_level_job_run_and_free_text() -> None:
    flt = parse_filter("level:error,warning job:sandbox-jira run:12 read timeout")
    assert flt.levels == {"ERROR", "WARNING"}
    assert (flt.job, flt.run_id, flt.text) == ("sandbox-jira", 12, "read timeout")
    assert parse_filter("").empty


def test_paging_backwards_visits_every_row_once_in_order(database: Database) -> None:
    seed(database)
    page = logs.latest(database, "acme", LogFilter(), limit=77)
    seen = [r.id for r in page.records]
    while page.more_before:
        page = logs.older(database, "acme", LogFilter(), page.records[0].cursor, limit=77)
        seen = [r.id for r in page.records] + seen
    assert len(seen) == 900  # the other client's rows never show
    assert seen == sorted(seen)


def test_filters_combine_level_job_and_text(database: Database) -> None:
    seed(database)
    flt = LogFilter(frozenset({"ERROR"}), "sandbox-jira", None, "TIMEOUT")
    rows = logs.latest(database, "acme", flt, limit=500).records
    assert rows
    assert all(r.level == "ERROR" and r.job == "sandbox-jira" for r in rows)
    assert all("timeout" in r.message for r in rows)


def test_newer_and_count_newer_follow_the_tail(database: Database) -> None:
    seed(database, 100)
    tail = logs.latest(database, "acme", LogFilter(), limit=10).records
    cursor = tail[-1].cursor
    assert logs.count_newer(database, "acme", LogFilter(), cursor) == 0
    seed(database, 20)  # older timestamps: T0… again; nothing newer
    with database.session() as session:
        cid = ensure_client(session, "acme")
        session.execute(
            insert(LogEntry),
            [
                {
                    "client_id": cid,
                    "ts": T0 + timedelta(hours=1),
                    "level": "INFO",
                    "logger": "x",
                    "message": f"late {i}",
                }
                for i in range(3)
            ],
        )
    assert logs.count_newer(database, "acme", LogFilter(), cursor) == 3
    assert [r.message for r in logs.newer(database, "acme", LogFilter(), cursor).records] == [
        "late 0",
        "late 1",
        "late 2",
    ]


def test_jump_to_a_time_starts_at_the_first_row_at_or_after_it(database: Database) -> None:
    seed(database)
    page = logs.at_time(database, "acme", LogFilter(), T0 + timedelta(seconds=100), limit=5)
    assert page.records[0].ts == T0 + timedelta(seconds=100)


def test_detail_returns_the_whole_message_and_extra(database: Database) -> None:
    seed(database, 10)
    first = logs.latest(database, "acme", LogFilter(), limit=1).records[0]
    full = logs.detail(database, "acme", first.id)
    assert full is not None and full.extra == {"i": 9}


def _unowned_row(database: Database, message: str) -> int:
    with database.session() as session:
        return int(
            session.execute(
                insert(LogEntry)
                .values(client_id=None, ts=T0, level="ERROR", logger="pulse", message=message)
                .returning(LogEntry.id)
            ).scalar_one()
        )


@pytest.mark.owner  # plants a row of no client, which only the owner may write
def test_a_row_without_a_client_is_shown_to_no_client(database: Database) -> None:
    seed(database, 20)
    unowned = _unowned_row(database, "record of nobody timeout")
    for flt in (LogFilter(), LogFilter(text="nobody"), LogFilter(frozenset({"ERROR"}))):
        for client in ("acme", "other"):
            page = logs.latest(database, client, flt, limit=500)
            assert unowned not in [r.id for r in page.records]
    assert logs.detail(database, "acme", unowned) is None
    assert logs.count_newer(database, "acme", LogFilter(), logs.Cursor(T0, 0)) == 18


def test_another_clients_record_is_not_found_by_id(database: Database) -> None:
    seed(database, 3)
    first = logs.latest(database, "acme", LogFilter(), limit=1).records[0]
    with database.session() as session:
        ensure_client(session, "globex")
    assert logs.detail(database, "globex", first.id) is None


def test_export_writes_matching_rows_as_json_lines_and_audits(
    database: Database, tmp_path: Path
) -> None:
    seed(database, 200)
    dest = tmp_path / "out" / "errors.zip"
    count = logs.export_zip(database, "acme", LogFilter(frozenset({"ERROR"})), dest, actor="ada")
    with zipfile.ZipFile(dest) as archive:
        lines = archive.read("log_entries.jsonl").decode().splitlines()
    assert len(lines) == count > 0
    assert all(json.loads(line)["level"] == "ERROR" for line in lines)
    assert audit.recent(database, "acme")[0].action == "logs.export"
