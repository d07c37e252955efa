"""A lost database connection shows a banner (not error dialogs); the console and its
embedded engine reconnect when it is back.

The console reaches PostgreSQL through a real TCP proxy that the test cuts (every
connection closed, new ones dropped) and restores.
"""

from __future__ import annotations

import dataclasses
import socket
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, make_url, text
from textual.widgets import DataTable

from pulse_console.config import Settings
from pulse_console.demo import JIRA_NAME, start_demo
from pulse_console.engine.controls import Control
from pulse_console.engine.service import PoolService, connect
from pulse_console.pipelines.registry import default_registry
from pulse_console.tui.app import PulseApp
from pulse_console.tui.dialogs.error import ErrorDialog
from pulse_console.tui.engine_jobs import EngineJobs
from pulse_console.tui.widgets.common.connection_banner import ConnectionBanner
from storage.db import Database, make_engine
from storage.testing import search_path_of, seed_tenant
from tests.tcp_proxy import TcpProxy
from tests.tui.conftest import SnapApp, make_ctx
from tests.tui.fakes import FakeJobs, seeded_jobs
from tests.tui.test_snapshots import SIZES, settle


async def wait_until(pilot: Any, check: Any, what: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        await pilot.pause(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def no_error_dialog(app: PulseApp) -> bool:
    return not any(isinstance(screen, ErrorDialog) for screen in app.screen_stack)


async def test_lost_connection_shows_a_banner_and_the_console_reconnects(
    engine: Engine, proxied: Database, proxy: TcpProxy, tmp_path: Path
) -> None:
    seed_tenant(engine)
    ctx = dataclasses.replace(make_ctx(proxied, tmp_path), live=True, probe_seconds=0.2)
    app = PulseApp(ctx, start="integrations")
    async with app.run_test(size=(100, 32)) as pilot:
        table = app.screen.query_one(DataTable)
        banner = app.screen.query_one(ConnectionBanner)
        await wait_until(pilot, lambda: table.row_count == 1, "the integration row")
        assert not banner.display

        proxy.cut()
        await wait_until(pilot, lambda: banner.display, "the banner")
        assert "connection lost" in str(banner.render())
        await pilot.press("r")  # a screen reading while it is down: still no dialog
        await pilot.pause(0.5)
        assert banner.display and no_error_dialog(app)
        assert table.row_count == 1  # what was on screen stays, under the banner

        with engine.begin() as conn:  # changed meanwhile, seen once reconnected
            conn.execute(
                text(
                    "INSERT INTO integrations (id, client_id, name, type, base_url)"
                    " VALUES (2, 1, 'jira-two', 'jira', 'https://two.atlassian.net')"
                )
            )
        proxy.restore()
        await wait_until(pilot, lambda: not banner.display, "the banner to clear")
        await wait_until(pilot, lambda: table.row_count == 2, "the screen to reload")
        assert no_error_dialog(app)

        # Other screens open with the banner state of the moment.
        proxy.cut()
        await wait_until(pilot, lambda: banner.display, "the banner again")
        app.switch_to("logs")
        await pilot.pause()
        assert app.screen.query_one(ConnectionBanner).display


def closed_port_database(engine: Engine, pg_url: str) -> Database:
    """A database URL where nothing listens: connecting is refused at once."""
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    url = make_url(pg_url).set(host="127.0.0.1", port=port)
    return Database(engine=make_engine(url, schema=search_path_of(engine)), embedded=False)


@pytest.mark.parametrize("size", SIZES)
def test_banner_snapshot(
    snap_compare: Any, engine: Engine, pg_url: str, tmp_path: Path, size: tuple[int, int]
) -> None:
    # Not live (no periodic probe): the failed settings read at start brings the banner.
    database = closed_port_database(engine, pg_url)
    try:
        ctx = make_ctx(database, tmp_path, FakeJobs(seeded_jobs()))
        assert snap_compare(SnapApp(ctx, start="jobs"), terminal_size=size, run_before=settle)
    finally:
        database.dispose()


async def test_the_embedded_engine_serves_again_when_the_database_is_back(
    engine: Engine, proxied: Database, proxy: TcpProxy, tmp_path: Path, isolated_home: Path
) -> None:
    demo = start_demo(Database(engine=engine, embedded=False), tmp_path / "data", size="tiny")
    settings = Settings(client=demo.client, data_dir=tmp_path / "data")

    def connect_engine() -> PoolService:
        return connect(proxied, settings, default_registry(), background=True, actor="test")

    first = connect_engine()
    assert first.mode == "embedded"
    jobs = EngineJobs(first, reconnect=connect_engine, retry_seconds=0.2)
    jobs.control(Control.ORCHESTRATOR_PAUSE)  # nothing starts by itself: the test drives
    ctx = make_ctx(proxied, tmp_path, jobs, client=demo.client, live=True, probe_seconds=0.2)
    app = PulseApp(ctx)
    try:
        async with app.run_test(size=(100, 32)) as pilot:
            table = app.screen.query_one("#jobs", DataTable)
            banner = app.screen.query_one(ConnectionBanner)
            await wait_until(pilot, lambda: JIRA_NAME in table.rows, "the job rows")

            proxy.cut()  # the pool worker's connections die with the others
            await wait_until(pilot, lambda: banner.display, "the banner")
            proxy.restore()  # the pool worker reconnects (or the console connects afresh)
            assert jobs.service.mode == "embedded"
            await wait_until(pilot, lambda: not banner.display, "the banner to clear")

            table.move_cursor(row=table.get_row_index(JIRA_NAME))
            await pilot.press("s")
            await wait_until(
                pilot,
                lambda: [r.status for r in jobs.runs(JIRA_NAME)] == ["FINISHED"],
                "a sync started on the new engine",
                60,
            )
            assert no_error_dialog(app)
    finally:
        jobs.close()
        demo.stop()
