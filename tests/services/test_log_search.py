"""Free-text log search: the same rows, in the same order, whichever way a page is found."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert
from sqlalchemy import text as sql

from pulse_console.services import log_search, logs
from pulse_console.services.logs import Cursor, LogFilter
from storage.db import Database
from storage.models import LogEntry
from storage.tenancy import ensure_client

T0 = datetime(2026, 1, 15, 8, 0, tzinfo=UTC)
WORDS = ["read Timeout", "100% done", "100 percent done", "snake_case", "snakeXcase", "C:\\tmp"]


def message(i: int) -> str:
    # Rare words at the start only (an old cluster), others spread evenly.
    extra = WORDS[i % len(WORDS)] if i % 5 == 0 else ""
    return f"record {i} {extra}" + (" ancient OOPS" if i < 40 else "")


def seed(database: Database, count: int = 400) -> list[tuple[int, str, str]]:
    """Rows for acme and another client; returns acme's (id, level, message), oldest first."""
    with database.session() as session:
        cid = ensure_client(session, "acme")
        other = ensure_client(session, "other")
        session.execute(
            insert(LogEntry),
            [
                {
                    "client_id": other if i % 9 == 0 else cid,
                    "ts": T0 + timedelta(seconds=i // 3),  # threes share a timestamp
                    "level": "ERROR" if i % 4 == 0 else "INFO",
                    "job": "sandbox-jira",
                    "logger": "pulse.test",
                    "message": message(i),
                }
                for i in range(count)
            ],
        )
    page = logs.latest(database, "acme", LogFilter(), limit=count)
    return [(r.id, r.level, r.message) for r in page.records]


def every_page_backwards(database: Database, flt: LogFilter, limit: int) -> list[int]:
    page = logs.latest(database, "acme", flt, limit=limit)
    seen = [r.id for r in page.records]
    while page.more_before:
        page = logs.older(database, "acme", flt, page.records[0].cursor, limit=limit)
        seen = [r.id for r in page.records] + seen
    return seen


def every_page_forwards(database: Database, flt: LogFilter, limit: int) -> list[int]:
    page = logs.at_time(database, "acme", flt, T0 - timedelta(days=1), limit=limit)
    seen = [r.id for r in page.records]
    while page.more_after:
        page = logs.newer(database, "acme", flt, page.records[-1].cursor, limit=limit)
        seen += [r.id for r in page.records]
    return seen


TEXTS = ["timeout", "record", "OOPS", "x", "100%", "_", "\\", "no such words"]


@pytest.mark.parametrize("probe_rows", [7, log_search.PROBE_ROWS])
@pytest.mark.parametrize("level", [None, "ERROR"])
def test_paging_finds_exactly_the_rows_containing_the_text_in_order(
    database: Database, monkeypatch: pytest.MonkeyPatch, probe_rows: int, level: str | None
) -> None:
    # A 7-row probe sends most searches to the second step; the real size answers most here.
    monkeypatch.setattr(log_search, "PROBE_ROWS", probe_rows)
    assert_pages_match_python(database, seed(database), level)


@pytest.mark.owner  # drops an index: DDL is the owner's
def test_without_the_trigram_index_paging_finds_the_same_rows(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What a server without pg_trgm has (migration 0004 skips the index there).
    with database.engine.begin() as conn:
        conn.execute(sql(f"DROP INDEX {log_search.TRIGRAM_INDEX}"))
    monkeypatch.setattr(log_search, "PROBE_ROWS", 7)
    assert_pages_match_python(database, seed(database), None)


def assert_pages_match_python(
    database: Database, rows: list[tuple[int, str, str]], level: str | None
) -> None:
    for text in TEXTS:
        flt = LogFilter(frozenset({level}) if level else frozenset(), text=text)
        expected = [
            i for i, lvl, msg in rows if text.lower() in msg.lower() and level in (None, lvl)
        ]
        assert every_page_backwards(database, flt, 6) == expected, text
        assert every_page_forwards(database, flt, 6) == expected, text


def test_text_search_ignores_case(database: Database) -> None:
    seed(database)
    for text in ("TIMEOUT", "timeout", "TimeOut"):
        found = logs.latest(database, "acme", LogFilter(text=text), limit=500).records
        assert found
        assert all("read Timeout" in r.message for r in found)


@pytest.mark.parametrize(
    ("text", "wanted", "unwanted"),
    [
        ("100%", "100% done", "100 percent done"),  # % is no wildcard
        ("e_c", "snake_case", "snakeXcase"),  # _ is no wildcard
        ("C:\\tmp", "C:\\tmp", None),  # \ is no escape
    ],
)
def test_wildcard_characters_in_the_text_match_literally(
    database: Database, text: str, wanted: str, unwanted: str | None
) -> None:
    seed(database)
    found = logs.latest(database, "acme", LogFilter(text=text), limit=500).records
    assert found
    assert all(wanted in r.message for r in found)
    assert unwanted is None or all(unwanted not in r.message for r in found)


def test_count_newer_and_export_use_the_same_match(database: Database) -> None:
    rows = seed(database)
    flt = LogFilter(text="100%")
    expected = [i for i, _, msg in rows if "100%" in msg]
    start = Cursor(T0 - timedelta(days=1), 0)
    assert logs.count_newer(database, "acme", flt, start) == len(expected)
    assert [r.id for r in logs.iter_matching(database, "acme", flt)] == expected


def test_a_text_the_index_cannot_look_up_is_searched_near_the_view_and_the_page_says_so(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = seed(database)
    monkeypatch.setattr(log_search, "PROBE_ROWS", 7)
    monkeypatch.setattr(log_search, "SHORT_SCAN_ROWS", 60)
    newest = rows[-60:]
    page = logs.latest(database, "acme", LogFilter(text="x"), limit=500)
    assert [r.id for r in page.records] == [i for i, _, msg in newest if "x" in msg.lower()]
    assert page.more_before and "type a longer text" in page.note
    older = logs.older(database, "acme", LogFilter(text="x"), page.records[0].cursor, limit=500)
    assert older.records and older.records[-1].id < page.records[0].id
    # a text with a trigram is searched everywhere, with no note
    whole = logs.latest(database, "acme", LogFilter(text="snakeX"), limit=500)
    assert len(whole.records) == sum("snakex" in msg.lower() for _, _, msg in rows)
    assert whole.note == "" and not whole.more_before


def test_a_search_text_over_200_characters_is_refused_in_one_line() -> None:
    assert logs.parse_filter("a" * 200).text == "a" * 200
    with pytest.raises(log_search.SearchRefused) as refused:
        logs.parse_filter("level:error " + "a" * 201)
    assert "\n" not in str(refused.value) and "at most 200" in str(refused.value)
