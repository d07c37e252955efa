"""The :workers screen lists the pool: each worker, its heartbeat, slots and current runs."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable

from pulse_console.tui.app import PulseApp
from storage.db import Database
from storage.models import PoolWorker
from tests.engine.conftest import add_jobs
from tests.tui.conftest import make_ctx
from tests.tui.test_audit_and_clients import loaded


async def test_the_workers_screen_lists_the_pool_and_the_runs_each_holds(
    database: Database, tmp_path: Path
) -> None:
    add_jobs(database, "acme", ["jira"])
    with database.session() as session:
        session.add(PoolWorker(name="w1", host="box-1", pid=11, concurrency=4, clients=None))
        session.add(PoolWorker(name="w2", host="box-2", pid=12, concurrency=2, clients=None))
    with database.engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO job_runs (client_id, job_id, trigger, status, worker)"
            " VALUES (1, 1, 'schedule', 'RUNNING', 'w1')"
        )
    app = PulseApp(make_ctx(database, tmp_path), start="workers")
    async with app.run_test(size=(120, 32)) as pilot:
        await loaded(pilot)
        table = app.screen.query_one(DataTable)
        assert table.row_count == 2
        rows = {str(key.value): [str(c) for c in table.get_row(key)] for key in table.rows}
        assert "acme/jira" in rows["w1"] and "idle" in rows["w2"]
        assert rows["w2"][1:2] == ["box-2"] and rows["w2"][3] == "2"
