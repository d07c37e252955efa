"""Issue 14: the short-text window search (`pulse_log_window`, migration 0026) runs as the
schema's owner, so it applies the clients rule itself: a login (or the role it acts as)
reads through it only the rows of its clients, and the log screen's filters and paging
work through it exactly as before."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, text

from pulse_console.services import log_search, logs
from pulse_console.services.logs import LogFilter
from storage import logins
from storage.db import Database
from storage.testing import scratch_login

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
COUNT = 240
SHORT = "x"  # no trigram: searched in the window near the view


@dataclass(frozen=True)
class Row:
    id: int
    ts: datetime
    level: str
    job: str
    run_id: int
    message: str

    @property
    def key(self) -> tuple[datetime, int]:
        return (self.ts, self.id)

    @property
    def has_text(self) -> bool:
        return SHORT in self.message.lower()


@pytest.fixture
def acme_rows(engine: Engine) -> list[Row]:
    """Client 1 `acme` and client 2 `other` log interleaved rows (pairs share a timestamp);
    every third message holds an x. Returns acme's rows in key order."""
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO clients (id, name) VALUES (1, 'acme'), (2, 'other')"))
        conn.execute(
            text(
                "INSERT INTO log_entries (client_id, ts, level, job, run_id, logger, message)"
                " SELECT CASE WHEN g % 4 = 3 THEN 2 ELSE 1 END,"
                "  :t0 + (g / 2) * interval '1 second',"
                "  CASE WHEN g % 5 = 0 THEN 'ERROR' ELSE 'INFO' END,"
                "  CASE WHEN g % 2 = 0 THEN 'github' ELSE 'jira' END, g / 25, 't',"
                "  'row ' || g || CASE WHEN g % 3 = 0 THEN ' eXit' ELSE '' END"
                " FROM generate_series(0, :n - 1) g"
            ),
            {"t0": T0, "n": COUNT},
        )
        found = conn.execute(
            text(
                "SELECT id, ts, level, job, run_id, message FROM log_entries"
                " WHERE client_id = 1 ORDER BY ts, id"
            )
        )
        return [Row(*r) for r in found]


def _window(engine: Engine, client: int | None) -> list[str]:
    """What the function gives for `client`: the matches of the newest 50 rows."""
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT message FROM pulse_log_window(:c, NULL, NULL, NULL, NULL, NULL,"
                " NULL, NULL, 50, 500, '%x%') WHERE hit ORDER BY ts, id"
            ),
            {"c": client},
        )
        return [r.message for r in rows]


@pytest.fixture
def viewer_of_acme(acme_rows: list[Row], engine: Engine) -> Iterator[Engine]:
    with scratch_login(engine, "viewer", clients=(1,)) as login:
        yield login


def test_a_viewer_finds_its_clients_matches_and_nothing_of_another(
    engine: Engine, acme_rows: list[Row], viewer_of_acme: Engine
) -> None:
    owners = _window(engine, 1)
    assert owners == [r.message for r in acme_rows[-50:] if r.has_text]
    assert _window(viewer_of_acme, 1) == owners
    assert _window(engine, 2)  # the other client has matches ...
    assert _window(viewer_of_acme, 2) == []  # ... which the viewer of acme is not shown
    assert _window(viewer_of_acme, None) == []


def test_the_role_a_login_acts_as_is_judged_not_the_login(
    engine: Engine, acme_rows: list[Row]
) -> None:
    with scratch_login(engine, "viewer", clients=(1, 2), also=("pulse_api",)) as login:
        assert _window(login, 2)  # the login itself may read the other client
        with engine.begin() as conn:
            token = logins.create_token_role(conn, "viewer", 1)
        try:
            acting = Database(engine=login, embedded=False).acting_as(token)
            assert _window(acting.engine, 1) == _window(engine, 1)
            assert _window(acting.engine, 2) == []
        finally:
            with engine.begin() as conn:
                logins.drop_token_role(conn, token)


def _wanted(rows: list[Row], flt: LogFilter) -> list[int]:
    return [
        r.id
        for r in rows
        if (not flt.levels or r.level in flt.levels)
        and (flt.job is None or r.job == flt.job)
        and (flt.run_id is None or r.run_id == flt.run_id)
        and r.has_text
    ]


FILTERS = [
    LogFilter(text=SHORT),
    LogFilter(frozenset({"ERROR"}), text=SHORT),
    LogFilter(job="jira", text=SHORT),
    LogFilter(run_id=3, text=SHORT),
    LogFilter(frozenset({"ERROR", "INFO"}), "github", 5, SHORT),
]


@pytest.mark.parametrize("flt", FILTERS, ids=lambda f: f.describe())
def test_every_filter_pages_both_ways_for_a_login(
    acme_rows: list[Row], viewer_of_acme: Engine, flt: LogFilter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(log_search, "PROBE_ROWS", 3)  # the probe never answers
    database = Database(engine=viewer_of_acme, embedded=False)
    backwards = logs.latest(database, "acme", flt, limit=4)
    seen = [r.id for r in backwards.records]
    while backwards.more_before:
        backwards = logs.older(database, "acme", flt, backwards.records[0].cursor, limit=4)
        seen = [r.id for r in backwards.records] + seen
    assert seen == _wanted(acme_rows, flt)
    forwards = logs.at_time(database, "acme", flt, T0 - timedelta(days=1), limit=4)
    seen = [r.id for r in forwards.records]
    while forwards.more_after:
        forwards = logs.newer(database, "acme", flt, forwards.records[-1].cursor, limit=4)
        seen += [r.id for r in forwards.records]
    assert seen == _wanted(acme_rows, flt)


def test_the_window_holds_the_filters_candidates_nearest_the_view(
    acme_rows: list[Row], viewer_of_acme: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(log_search, "PROBE_ROWS", 3)
    monkeypatch.setattr(log_search, "SHORT_SCAN_ROWS", 12)
    database = Database(engine=viewer_of_acme, embedded=False)
    flt = LogFilter(frozenset({"ERROR"}), text=SHORT)
    errors = [r for r in acme_rows if r.level == "ERROR"]
    page = logs.latest(database, "acme", flt, limit=50)
    assert [r.id for r in page.records] == [r.id for r in errors[-12:] if r.has_text]
    assert page.more_before and "type a longer text" in page.note
    older = logs.older(database, "acme", flt, page.records[0].cursor, limit=50)
    nearest = [r for r in errors if r.key < (page.records[0].ts, page.records[0].id)][-12:]
    assert [r.id for r in older.records] == [r.id for r in nearest if r.has_text]
    assert older.more_before


def test_only_the_roles_that_read_logs_may_call_it(engine: Engine, viewer_of_acme: Engine) -> None:
    name = viewer_of_acme.url.username
    signature = (
        "pulse_log_window(bigint, text[], text, bigint, timestamptz, bigint, timestamptz,"
        " bigint, integer, integer, text)"
    )
    check = text("SELECT has_function_privilege(:n, to_regprocedure(:f), 'EXECUTE')")
    with engine.begin() as conn:
        assert conn.execute(check, {"n": name, "f": signature}).scalar_one()
        conn.exec_driver_sql(f'REVOKE pulse_viewer FROM "{name}"')
        assert not conn.execute(check, {"n": name, "f": signature}).scalar_one()
