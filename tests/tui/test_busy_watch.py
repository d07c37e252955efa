"""A slow load shows a spinner in the header, and only while something is waited for."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from pulse_console.tui.app import PulseApp
from pulse_console.tui.busy_watch import LONG_LIVED
from pulse_console.tui.widgets.common.context_header import ContextHeader
from storage.db import Database
from tests.tui.conftest import make_ctx
from tests.tui.fakes import FakeJobs, seeded_jobs
from tests.tui.workers import workers_done


async def test_a_slow_load_spins_in_the_header_until_it_answers(
    database: Database, tmp_path: Path
) -> None:
    gate = threading.Event()  # the jobs load waits on it: a database that is slow to answer
    ctx = make_ctx(database, tmp_path, FakeJobs(seeded_jobs(), gate=gate), live=True)
    app = PulseApp(ctx)
    try:
        async with app.run_test(size=(100, 32)) as pilot:
            header = app.screen.query_one(ContextHeader)
            deadline = time.monotonic() + 10
            while "waiting" not in header.busy:
                assert time.monotonic() < deadline, "no spinner for a load over a second"
                await pilot.pause(0.1)
            assert header.busy[0] in "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
            assert "waiting" in str(header.render())
            gate.set()
            deadline = time.monotonic() + 10
            while header.busy:
                assert time.monotonic() < deadline, "the spinner stayed after the answer"
                await pilot.pause(0.1)
    finally:
        gate.set()


async def test_long_lived_workers_are_not_waits(database: Database, tmp_path: Path) -> None:
    app = PulseApp(make_ctx(database, tmp_path, FakeJobs(seeded_jobs())))
    stop, slow = threading.Event(), threading.Event()
    try:
        async with app.run_test(size=(100, 32)) as pilot:
            app.run_worker(stop.wait, thread=True, group="jobs-events")  # an event stream
            # The screen's first loads done (on a loaded machine they outlast a short pause,
            # and one seen at `start` and still running a minute later is a wait)
            deadline = time.monotonic() + 10
            while any(not w.is_finished and w.group not in LONG_LIVED for w in app.workers):
                assert time.monotonic() < deadline, "the screen's loads did not end"
                await pilot.pause(0.05)
            watch = app.busy_watch
            start = time.monotonic()
            assert watch.tick(start) == ""
            assert watch.tick(start + 60) == ""  # a stream open for a minute is not a wait
            app.run_worker(slow.wait, thread=True, group="health")
            await pilot.pause(0.05)
            assert watch.tick(start + 60) == ""  # just seen
            assert watch.tick(start + 60.5) == ""
            assert "waiting 2s" in watch.tick(start + 62)
            slow.set()
            stop.set()
            await workers_done(app)
            assert watch.tick(start + 63) == ""
    finally:  # a failed assertion must not leave a thread waiting forever (pytest would hang)
        slow.set()
        stop.set()
