"""Every Jobs-screen control, pressed in the console, checked in the engine's own state.

The console runs live on the sandbox demo with the real engine embedded. Each test presses
a key (and answers the confirmation where the control interrupts work), then reads the
result from the engine's service (`status()`: the jobs table, the orchestrator setting) and
its run history, never from the screen. Refused controls must leave the engine as it was and
tell the operator why.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import DataTable

from pulse_console.demo import Demo
from pulse_console.engine.store import JobView
from pulse_console.tui.app import PulseApp
from pulse_console.tui.dialogs.confirm import ConfirmDialog
from pulse_console.tui.engine_jobs import EngineJobs
from pulse_console.tui.screens.jobs import JobsScreen
from storage.db import Database
from tests.tui.conftest import live_console


class RecordingApp(PulseApp):
    """The console, keeping every notification it showed."""

    notes: list[str]

    def notify(self, message: str, *args: Any, **kwargs: Any) -> None:
        self.notes = [*getattr(self, "notes", []), str(message)]
        super().notify(message, *args, **kwargs)


def engine_job(jobs: EngineJobs, name: str) -> JobView:
    return next(j for j in jobs.service.status().jobs if j.name == name)


def engine_paused(jobs: EngineJobs) -> bool:
    return jobs.service.status().orchestrator_paused


async def until(pilot: Pilot[None], check: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out waiting for the engine"
        await pilot.pause(0.05)


def screen_of(app: PulseApp) -> JobsScreen:
    screen = app.get_screen("jobs") if app.current_mode != "jobs" else app.screen
    assert isinstance(screen, JobsScreen)
    return screen


async def select(pilot: Pilot[None], app: PulseApp, job: str) -> None:
    """Move the cursor with the keys, as an operator would (the table has the focus)."""
    screen = screen_of(app)
    table = screen.query_one("#jobs", DataTable)
    await until(pilot, lambda: job in table.rows)
    key = "down" if table.get_row_index(job) > table.cursor_row else "up"
    for _ in range(table.row_count):
        if screen.selected_job == job:
            return
        await pilot.press(key)
    assert screen.selected_job == job


async def shown_as(pilot: Pilot[None], app: PulseApp, job: str, status: str) -> None:
    """Wait until the screen knows (its disabled reasons are computed from what it shows)."""
    screen = screen_of(app)
    await until(pilot, lambda: any(j.name == job and j.status == status for j in screen.job_rows))


async def press_and_answer(pilot: Pilot[None], app: PulseApp, key: str, answer: str) -> None:
    await pilot.press(key)
    await until(pilot, lambda: isinstance(app.screen, ConfirmDialog), timeout=5)
    await pilot.press(answer)
    await until(pilot, lambda: not isinstance(app.screen, ConfirmDialog), timeout=5)


async def test_job_controls_start_pause_resume_stop_and_set_active_the_engine(
    database: Database, tmp_path: Path, slow_demo: Demo
) -> None:
    async with live_console(database, tmp_path, slow_demo, RecordingApp) as (app, pilot, jobs):
        # start
        await select(pilot, app, "sandbox-jira")
        await pilot.press("s")
        await until(pilot, lambda: engine_job(jobs, "sandbox-jira").status == "RUNNING")
        assert jobs.runs("sandbox-jira")[0].trigger == "manual"
        await shown_as(pilot, app, "sandbox-jira", "RUNNING")

        # refused while another job runs: the engine is left alone, the reason is shown
        await select(pilot, app, "sandbox-github")
        await pilot.press("s", "a")
        await pilot.pause(0.2)
        busy = "sandbox-jira is running (one job runs at a time per client): try again when it ends"
        assert f"Cannot start: {busy}, or stop it first." in app.notes
        assert f"Cannot set active: {busy}, or stop it first." in app.notes
        assert engine_job(jobs, "sandbox-github").status != "RUNNING"
        assert jobs.runs("sandbox-github") == []

        # pause (confirmed) parks the run; start is then refused, resume continues it
        await select(pilot, app, "sandbox-jira")
        await press_and_answer(pilot, app, "p", "y")
        await until(pilot, lambda: engine_job(jobs, "sandbox-jira").status == "PAUSED")
        await shown_as(pilot, app, "sandbox-jira", "PAUSED")
        await pilot.press("s")
        await pilot.pause(0.2)
        assert (
            "Cannot start: sandbox-jira is PAUSED: resume it instead of starting it." in app.notes
        )
        assert engine_job(jobs, "sandbox-jira").status == "PAUSED"
        await pilot.press("u")
        await until(pilot, lambda: engine_job(jobs, "sandbox-jira").status == "RUNNING")
        assert jobs.runs("sandbox-jira")[0].trigger == "resume"
        await shown_as(pilot, app, "sandbox-jira", "RUNNING")

        # stop: "no" at the confirmation changes nothing; "yes" stops the run
        await press_and_answer(pilot, app, "x", "n")
        assert engine_job(jobs, "sandbox-jira").status == "RUNNING"
        assert not engine_job(jobs, "sandbox-jira").cancel_requested
        await press_and_answer(pilot, app, "x", "y")
        await until(pilot, lambda: engine_job(jobs, "sandbox-jira").status != "RUNNING")
        stopped = jobs.runs("sandbox-jira")[0]
        assert stopped.trigger == "resume" and stopped.status != "FINISHED"
        assert engine_job(jobs, "sandbox-jira").status == "FAILED"
        await shown_as(pilot, app, "sandbox-jira", "FAILED")

        # set active (confirmed): sandbox-github holds the chain, sandbox-jira steps aside
        await select(pilot, app, "sandbox-github")
        await press_and_answer(pilot, app, "a", "y")
        await until(pilot, lambda: engine_job(jobs, "sandbox-github").status == "PENDING")
        assert engine_job(jobs, "sandbox-jira").status == "FINISHED"
        assert len(jobs.runs(None)) == 2  # nothing ran by itself: the orchestrator is paused


async def test_orchestrator_controls_resume_tick_and_pause_the_engine(
    database: Database, tmp_path: Path, demo: Demo
) -> None:
    def idle() -> bool:
        return all(j.status != "RUNNING" for j in jobs.service.status().jobs)

    def chain_done() -> bool:  # the demo's chain: Jira, Azure DevOps, Aha!, GitHub; all FINISHED
        return all(j.status == "FINISHED" for j in jobs.service.status().jobs)

    async with live_console(database, tmp_path, demo, RecordingApp) as (app, pilot, jobs):
        screen = screen_of(app)
        await until(pilot, lambda: screen.orch is not None and screen.orch.paused)

        # tick now is refused while the orchestrator is paused
        await pilot.press("n")
        await pilot.pause(0.2)
        assert "Cannot orchestrator tick: the orchestrator is paused: resume it first." in (
            app.notes
        )
        assert jobs.runs(None) == [] and idle()

        # resume (no confirmation: it starts nothing by hand) — the chain starts on its own
        await pilot.press("o")
        await until(pilot, lambda: not engine_paused(jobs))
        await until(pilot, chain_done, timeout=60)
        # one scheduled run per job of the demo's chain (Jira, GitHub, Aha!)
        chain = jobs.service.status().jobs
        assert [r.trigger for r in jobs.runs(None)] == ["schedule"] * len(chain) == ["schedule"] * 4
        await until(pilot, lambda: all(j.status != "RUNNING" for j in screen.job_rows))
        await until(pilot, lambda: screen.orch is not None and not screen.orch.paused)

        # tick now starts the chain at once, by hand
        before = {r.id for r in jobs.runs(None)}
        await pilot.press("n")
        await until(pilot, lambda: {r.id for r in jobs.runs(None)} != before)
        started = min((r for r in jobs.runs(None) if r.id not in before), key=lambda r: r.id)
        assert (started.job, started.trigger) == ("sandbox-jira", "manual")
        await until(pilot, chain_done, timeout=60)

        # pause (confirmed): no job starts on its own any more
        await press_and_answer(pilot, app, "o", "y")
        await until(pilot, lambda: engine_paused(jobs))
        await until(pilot, lambda: screen.orch is not None and screen.orch.paused)
