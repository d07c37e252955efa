"""Console fixtures: a context on the real test database with a fixed clock, no pollers;
and the sandbox demo with the real engine behind the console, for the live tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import pytest
from cryptography.fernet import Fernet
from textual.pilot import Pilot

from connectors.sandbox.credentials import DEMO_JIRA
from pulse_console.config import Settings
from pulse_console.demo import JIRA_NAME, Demo, start_demo
from pulse_console.engine.controls import Control
from pulse_console.engine.service import connect
from pulse_console.pipelines.registry import default_registry
from pulse_console.services.client_services import ClientServices
from pulse_console.tui.app import PulseApp
from pulse_console.tui.context import ConsoleContext
from pulse_console.tui.engine_jobs import EngineJobs
from storage.db import Database
from storage.integrations import save_integration
from storage.secrets import DatabaseSecretStore
from tests.tui.fakes import NOW, FakeJobs


def make_ctx(
    database: Database,
    tmp_path: Path,
    jobs: FakeJobs | EngineJobs | None = None,
    *,
    client: str = "acme",
    log_dir: Path | None = None,
    **changes: Any,
) -> ConsoleContext:
    (tmp_path / "logs").mkdir(exist_ok=True)
    services = ClientServices(
        database,
        client,
        log_dir=tmp_path / "logs" if log_dir is None else log_dir,
        secrets=DatabaseSecretStore(database.engine, Fernet.generate_key()),
        actor="ada",
    )
    fields: dict[str, Any] = dict(
        services=services,
        jobs=jobs or FakeJobs(),
        export_dir=tmp_path / "exports",
        clock=lambda: NOW,
        live=False,
        label="test-db",
    )
    return ConsoleContext(**{**fields, **changes})


@pytest.fixture
def ctx(database: Database, tmp_path: Path) -> ConsoleContext:
    return make_ctx(database, tmp_path)


class SnapApp(PulseApp):
    """The console as snapshots see it: a fixed database label, no cursor blink, and no
    animation (Textual reads TEXTUAL_ANIMATIONS before this conftest can set it)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.animation_level = "none"

    def on_mount(self) -> None:
        super().on_mount()
        self._no_blink()
        # Forms and dialogs mount their inputs later, on screens of their own: a blinking
        # cursor there made a shot depend on when it was taken (seen under load).
        self.set_interval(0.05, self._no_blink)

    def _no_blink(self) -> None:
        for screen in self.screen_stack:
            for widget in screen.query("Input"):
                if widget.cursor_blink:  # type: ignore[attr-defined]
                    widget.cursor_blink = False  # type: ignore[attr-defined]


@pytest.fixture
def demo(database: Database, tmp_path: Path, isolated_home: Path) -> Iterator[Demo]:
    running = start_demo(database, tmp_path / "data", size="tiny")
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def slow_demo(database: Database, tmp_path: Path, isolated_home: Path) -> Iterator[Demo]:
    """The tiny demo at 200 ms a request and 10 Jira issues a page: a sync takes seconds and
    its progress moves in steps, so a test can watch it and act on it mid-run. (The Jira sync
    asks dev-status only for issues with development data, so it makes few requests: each
    must be slow for the run to last.)"""
    scenario = tmp_path / "slow.toml"
    scenario.write_text("[latency]\nfixed_ms = 400\n")
    running = start_demo(database, tmp_path / "data", size="tiny", scenario=scenario)
    with database.session() as session:
        save_integration(
            session,
            client_id=running.client_id,
            name=JIRA_NAME,
            type="jira",
            base_url=running.server.base_urls["jira"],
            config={"email": DEMO_JIRA.email, "page_size": 10},
        )
    try:
        yield running
    finally:
        running.stop()


def engine_jobs(database: Database, tmp_path: Path, demo: Demo) -> EngineJobs:
    """The real engine, embedded, with its orchestrator paused: the test drives."""
    settings = Settings(client=demo.client, data_dir=tmp_path / "data")
    service = connect(database, settings, default_registry(), background=True, actor="test")
    assert service.mode == "embedded"
    jobs = EngineJobs(service)
    jobs.control(Control.ORCHESTRATOR_PAUSE)
    return jobs


def live_ctx(database: Database, tmp_path: Path, demo: Demo, jobs: EngineJobs) -> ConsoleContext:
    """A live console context (real clock, pollers, event stream) on the demo client."""
    (tmp_path / "logs").mkdir(exist_ok=True)
    services = ClientServices(
        database,
        demo.client,
        log_dir=tmp_path / "logs",
        secrets=DatabaseSecretStore(database.engine, Fernet.generate_key()),
        actor="ada",
    )
    return ConsoleContext(
        services=services, jobs=jobs, export_dir=tmp_path / "exports", label="test-db"
    )


AppT = TypeVar("AppT", bound=PulseApp)


@asynccontextmanager
async def live_console(
    database: Database, tmp_path: Path, demo: Demo, app_type: type[AppT]
) -> AsyncIterator[tuple[AppT, Pilot[None], EngineJobs]]:
    """The console, live on the demo client with the real engine embedded, at 160x40."""
    jobs = engine_jobs(database, tmp_path, demo)
    app = app_type(live_ctx(database, tmp_path, demo, jobs))
    try:
        async with app.run_test(size=(160, 40)) as pilot:
            yield app, pilot, jobs
    finally:
        jobs.close()
