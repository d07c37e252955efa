"""EngineJobs: the console's JobsPort over the real engine, on the sandbox demo client."""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy import text
from textual.widgets import DataTable

from connectors.sandbox.credentials import DEMO_JIRA
from pulse_console.demo import ADO_NAME, AHA_NAME, GITHUB_NAME, JIRA_NAME, Demo
from pulse_console.engine.controls import Control
from pulse_console.services import health
from pulse_console.tui.app import PulseApp
from pulse_console.tui.engine_jobs import EngineJobs
from pulse_console.tui.ports import (
    ControlRefused,
    JobEvent,
    JobsPort,
    ProgressChanged,
    RunFinished,
)
from pulse_console.tui.screens.runs import render_detail
from pulse_console.tui.widgets.jobs.progress_panel import ProgressPanel
from storage.db import Database
from storage.integrations import save_integration, secret_name
from storage.secrets import open_secret_store
from tests.tui.conftest import engine_jobs, live_console


@asynccontextmanager
async def driven(jobs: EngineJobs) -> AsyncIterator[list[JobEvent]]:
    """Host the embedded engine in real time and collect its events until the block ends;
    then close the port and check that this ends the event stream."""
    seen: list[JobEvent] = []
    reader = threading.Thread(target=lambda: seen.extend(jobs.events()), daemon=True)
    reader.start()
    stop = asyncio.Event()
    host = asyncio.create_task(jobs.host(stop))
    try:
        yield seen
    finally:
        stop.set()
        await host
        jobs.close()
    reader.join(10)
    assert not reader.is_alive()  # close() ends events()


def status_of(jobs: EngineJobs, name: str) -> str:
    return next(j.status for j in jobs.jobs() if j.name == name)


async def test_engine_jobs_starts_a_job_streams_events_and_refuses_with_a_reason(
    database: Database, tmp_path: Path, demo: Demo
) -> None:
    jobs = engine_jobs(database, tmp_path, demo)
    assert isinstance(jobs, JobsPort)
    async with driven(jobs) as seen:
        assert jobs.orchestrator().paused
        with pytest.raises(ControlRefused, match=r"\S"):
            jobs.control(Control.RESUME, JIRA_NAME)  # not paused: refused, with a reason
        with pytest.raises(ControlRefused, match="needs a job"):
            jobs.control(Control.START)
        await asyncio.to_thread(jobs.control, Control.START, JIRA_NAME)
        with pytest.raises(ControlRefused, match=r"\S"):
            jobs.control(Control.START, GITHUB_NAME)  # another job is running (or just finished)
        deadline = time.monotonic() + 60
        while status_of(jobs, JIRA_NAME) != "FINISHED" and time.monotonic() < deadline:
            await asyncio.sleep(0.25)
        assert status_of(jobs, JIRA_NAME) == "FINISHED"
        runs = jobs.runs(JIRA_NAME)
        assert runs and runs[0].status == "FINISHED" and runs[0].records > 0
        detail = jobs.run_detail(runs[0].id)
        assert detail is not None and detail.id == runs[0].id
        assert jobs.progress() is None
    assert any(isinstance(e, RunFinished) and e.job == JIRA_NAME for e in seen)


def bar_reading(panel: ProgressPanel) -> tuple[int, int | None] | None:
    """(done, total) as the progress panel shows it, or None when no job runs."""
    text = str(panel.content)
    if (m := re.search(r"([\d,]+)/([\d,]+) \(\d+%\)", text)) is not None:
        return int(m[1].replace(",", "")), int(m[2].replace(",", ""))
    if (m := re.search(r"([\d,]+) items \(total unknown\)", text)) is not None:
        return int(m[1].replace(",", "")), None
    return None


async def test_console_starts_jira_sync_and_the_progress_bar_follows_it_to_the_end(
    database: Database, tmp_path: Path, slow_demo: Demo
) -> None:
    async with live_console(database, tmp_path, slow_demo, PulseApp) as (app, pilot, jobs):
        table = app.screen.query_one("#jobs", DataTable)
        panel = app.screen.query_one(ProgressPanel)
        deadline = time.monotonic() + 15
        while JIRA_NAME not in table.rows and time.monotonic() < deadline:
            await pilot.pause(0.1)
        table.move_cursor(row=table.get_row_index(JIRA_NAME))
        await pilot.pause()
        before = str(table.get_cell(JIRA_NAME, "status"))
        await pilot.press("s")
        statuses: list[str] = [before]
        readings: list[tuple[int, int | None]] = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            await pilot.pause(0.02)
            reading = bar_reading(panel)
            if reading is not None and (not readings or readings[-1] != reading):
                readings.append(reading)
            cell = str(table.get_cell(JIRA_NAME, "status"))
            if cell != statuses[-1]:
                statuses.append(cell)
            if cell == "FINISHED" and jobs.runs(JIRA_NAME):
                break
        assert statuses[-1] == "FINISHED", statuses
        assert "RUNNING" in statuses, statuses
        run = jobs.runs(JIRA_NAME)[0]
        assert run.trigger.lower() == "manual" and run.status == "FINISHED"
        records = str(table.get_cell(JIRA_NAME, "records"))
        assert records not in {"—", "0"}
        # The bar moved forward only, several times, and ended full.
        dones = [done for done, _ in readings]
        assert len(set(dones)) >= 3, readings
        assert dones == sorted(dones), readings
        assert len({total for _, total in readings if total is not None}) == 1, readings
        done, total = readings[-1]
        assert total is not None and done == total, readings
        await pilot.pause(0.3)
        assert bar_reading(panel) is None  # the run ended: the panel says so
        assert "No job is running" in str(panel.content)


async def test_github_sync_brings_its_graphql_budget_to_the_console(
    database: Database, tmp_path: Path, demo: Demo
) -> None:
    jobs = engine_jobs(database, tmp_path, demo)
    async with driven(jobs) as seen:
        for job in (JIRA_NAME, GITHUB_NAME):  # GitHub finds its repositories via Jira
            await asyncio.to_thread(jobs.control, Control.START, job)
            deadline = time.monotonic() + 60
            while status_of(jobs, job) == "RUNNING" and time.monotonic() < deadline:
                await asyncio.sleep(0.25)
        [run] = jobs.runs(GITHUB_NAME)
        assert run.status == "FINISHED"
        detail = jobs.run_detail(run.id)
    # Live: the progress the Jobs panel shows carries the budget, spent as the run goes.
    budgets = [
        e.progress.budget
        for e in seen
        if isinstance(e, ProgressChanged) and e.progress.budget is not None
    ]
    assert budgets and all(b.limit == 5000 for b in budgets)
    assert budgets[-1].remaining < budgets[0].limit  # type: ignore[operator]
    assert budgets[-1].reset_at is not None
    # After: the run's detail and the Health screen's check say what the run left.
    assert detail is not None
    left = f"{budgets[-1].remaining:,}/5,000 points left"
    assert f"Budget    {left}" in render_detail(detail)
    checks = {c.component: c for c in health.report(database, demo.client, tmp_path / "logs")}
    check = checks[f"Budget {GITHUB_NAME}"]
    assert check.state == "OK" and check.detail.startswith(left)
    assert f"after run {run.id}" in check.detail
    assert f"Budget {JIRA_NAME}" not in checks  # Jira reports no budget


async def test_a_jira_integration_added_while_the_console_runs_gets_its_own_job_row(
    database: Database, tmp_path: Path, demo: Demo
) -> None:
    async with live_console(database, tmp_path, demo, PulseApp) as (app, pilot, jobs):
        table = app.screen.query_one("#jobs", DataTable)
        with database.session() as session:  # what `integration add` and the form both do
            added = save_integration(
                session,
                client_id=demo.client_id,
                name="jira-two",
                type="jira",
                base_url=demo.server.base_urls["jira"],
                config={"email": DEMO_JIRA.email},
            )
        secrets = open_secret_store(database.engine, tmp_path / "data", allow_keyring=False)
        secrets.set(secret_name(demo.client_id, added), DEMO_JIRA.api_token)
        deadline = time.monotonic() + 20  # the engine looks for new integrations every beat
        while "jira-two" not in table.rows and time.monotonic() < deadline:
            await pilot.pause(0.1)
        # in chain order: the Jira jobs by name, then Azure DevOps', Aha!'s and GitHub's
        assert [str(key.value) for key in table.rows] == [
            "jira-two",
            JIRA_NAME,
            ADO_NAME,
            AHA_NAME,
            GITHUB_NAME,
        ]

        table.move_cursor(row=table.get_row_index("jira-two"))
        await pilot.pause()
        await pilot.press("s")
        deadline = time.monotonic() + 60
        while not any(r.status == "FINISHED" for r in jobs.runs("jira-two")):
            assert time.monotonic() < deadline, jobs.runs("jira-two")
            await pilot.pause(0.1)
        with database.engine.connect() as conn:
            mine = conn.execute(
                text("SELECT count(*) FROM work_items WHERE integration_id = :i"), {"i": added}
            ).scalar_one()
        assert mine > 0 and jobs.runs(JIRA_NAME) == []  # it synced its own integration only
