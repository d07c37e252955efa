"""One source of truth for run-time settings: what the console saves, the engine reads."""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from pulse_console.config import Settings
from pulse_console.engine.clock import FakeClock
from pulse_console.engine.orchestrator import Orchestrator
from pulse_console.engine.service import read_status
from pulse_console.services import settings as console_settings
from pulse_console.services.settings import ConsoleSettings
from storage.db import Database
from storage.models import LogEntry
from tests.engine.conftest import T0, add_jobs
from tests.engine.scripted import Script, registry_of


def make(
    database: Database, settings: Settings, clock: FakeClock, **kwargs: object
) -> Orchestrator:
    scripts = {"jira_sync": Script()}
    add_jobs(database, settings.client, list(scripts))
    return Orchestrator(
        database,
        settings,
        registry_of(scripts),
        clock=clock,
        **kwargs,  # type: ignore[arg-type]
    )


def test_an_interval_saved_on_the_settings_screen_moves_the_next_tick(
    database: Database, settings: Settings, clock: FakeClock
) -> None:
    orch = make(database, settings, clock, log_dir=False)
    orch.step()
    assert orch.next_tick_at() == T0 + timedelta(minutes=60)
    defaults = ConsoleSettings.from_config(settings)
    new = replace(defaults, orchestrator_interval_minutes=30)
    assert console_settings.save(database, "acme", new, defaults, actor="ada") == [
        "orchestrator_interval_minutes"
    ]
    assert orch.next_tick_at() == T0 + timedelta(minutes=30)
    status = read_status(database, orch.client_id, "acme", settings, "embedded")
    assert status.settings["orchestrator.interval_minutes"] == 30


def test_a_setting_changed_from_the_cli_shows_on_the_settings_screen(
    database: Database, settings: Settings, clock: FakeClock
) -> None:
    orch = make(database, settings, clock, log_dir=False)
    assert orch.set_setting("orchestrator.interval_minutes", 45, actor="cli").ok
    assert orch.set_setting("logging.retention_days", 7, actor="cli").ok
    shown = console_settings.load(database, "acme", ConsoleSettings.from_config(settings))
    assert (shown.orchestrator_interval_minutes, shown.log_retention_days) == (45, 7)


def test_log_retention_prunes_old_log_rows_and_files_alike(
    database: Database, settings: Settings, clock: FakeClock, tmp_path: Path
) -> None:
    log_dir = tmp_path / "logs"
    orch = make(database, settings, clock, log_dir=log_dir)
    log_dir.mkdir(parents=True, exist_ok=True)  # the first run makes it; none ran yet
    old_file = log_dir / "jobs-acme.jsonl.3"
    new_file = log_dir / "jobs-acme.jsonl.1"
    other_client = log_dir / "jobs-other.jsonl.3"
    for path, age in ((old_file, 10), (new_file, 2), (other_client, 10)):
        path.write_text("{}\n")
        stamp = (T0 - timedelta(days=age)).timestamp()
        os.utime(path, (stamp, stamp))
    with database.session() as session:
        for age in (10, 2):
            session.add(
                LogEntry(
                    client_id=orch.client_id,
                    ts=T0 - timedelta(days=age),
                    level="INFO",
                    job="jira_sync",
                    logger="t",
                    message=f"{age} days old",
                )
            )
    defaults = ConsoleSettings.from_config(settings)
    console_settings.save(
        database, "acme", replace(defaults, log_retention_days=7), defaults, actor="ada"
    )
    orch.step()  # the tick applies the retention
    with database.session() as session:
        messages = session.execute(
            select(LogEntry.message).where(LogEntry.message.like("%days old"))
        ).scalars()
        assert list(messages) == ["2 days old"]
    assert not old_file.exists()
    assert new_file.exists() and other_client.exists()
