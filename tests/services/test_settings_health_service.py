"""Settings saved per client with an audit row; health checks of database and disk."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from pulse_console.services import audit, health
from pulse_console.services import settings as console_settings
from pulse_console.services.settings import ConsoleSettings, SettingsInvalid
from storage.db import Database


def test_settings_fall_back_to_config_then_save_what_changed(database: Database) -> None:
    defaults = ConsoleSettings()
    assert console_settings.load(database, "acme", defaults) == defaults
    new = replace(defaults, orchestrator_interval_minutes=30, theme="nord")
    changed = console_settings.save(database, "acme", new, defaults, actor="ada")
    assert sorted(changed) == ["orchestrator_interval_minutes", "theme"]
    assert console_settings.load(database, "acme", defaults) == new
    assert console_settings.save(database, "acme", new, defaults, actor="ada") == []
    # One row per stored change (the trigger's), carrying the service's operation and details.
    trail = [a for a in audit.recent(database, "acme") if a.action != "clients.insert"]
    assert sorted(a.action for a in trail) == ["settings.insert", "settings.insert"]
    assert {a.operation for a in trail} == {"settings.change"}
    assert all(a.details["theme"] == {"from": "textual-dark", "to": "nord"} for a in trail)


def test_invalid_settings_are_refused(database: Database) -> None:
    with pytest.raises(SettingsInvalid) as info:
        console_settings.save(
            database,
            "acme",
            replace(ConsoleSettings(), retry_max_attempts=-1),
            ConsoleSettings(),
            actor="ada",
        )
    assert "retry_max_attempts" in info.value.errors


def test_health_reports_database_and_disk(database: Database, tmp_path: Path) -> None:
    checks = health.report(database, "acme", tmp_path / "logs")
    assert [c.component for c in checks] == ["Database", "Log disk"]
    assert checks[0].state in {"OK", "WARN"} and "PostgreSQL" in checks[0].detail
