"""Run-time settings the operator edits in the console: the engine's own keys
(engine/runtime_settings.py: `orchestrator.interval_minutes`, `retry.*`,
`logging.retention_days`, `console.theme`), so what the screen saves is what the orchestrator
reads at its next step and what `orchestrator set`/`status` write and show. Audited.

Values not yet saved fall back to the process configuration (config.toml / environment).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from pulse_console.config import Settings as AppSettings
from pulse_console.engine import runtime_settings
from pulse_console.engine.runtime_settings import THEMES
from pulse_console.services import audit
from storage.db import Database
from storage.tenancy import ensure_client, find_client

__all__ = ["THEMES", "ConsoleSettings", "SettingsInvalid", "load", "save"]


@dataclass(frozen=True)
class ConsoleSettings:
    orchestrator_interval_minutes: int = 60
    retry_enabled: bool = True
    retry_interval_minutes: int = 15
    retry_max_attempts: int = 3
    log_retention_days: int = 30
    theme: str = "textual-dark"

    @classmethod
    def from_config(cls, config: AppSettings) -> ConsoleSettings:
        return cls(
            orchestrator_interval_minutes=config.orchestrator.interval_minutes,
            retry_enabled=config.retry.enabled,
            retry_interval_minutes=config.retry.interval_minutes,
            retry_max_attempts=config.retry.max_attempts,
            log_retention_days=config.logging.retention_days,
        )

    def problems(self) -> dict[str, str]:
        errors: dict[str, str] = {}
        if not 1 <= self.orchestrator_interval_minutes <= 7 * 24 * 60:
            errors["orchestrator_interval_minutes"] = "Between 1 minute and 7 days (10080)."
        if not 1 <= self.retry_interval_minutes <= 24 * 60:
            errors["retry_interval_minutes"] = "Between 1 and 1440 minutes."
        if not 0 <= self.retry_max_attempts <= 100:
            errors["retry_max_attempts"] = "Between 0 and 100 attempts."
        if self.log_retention_days < 1:
            errors["log_retention_days"] = "At least one day."
        if self.theme not in THEMES:
            errors["theme"] = f"One of: {', '.join(THEMES)}."
        return errors


# form field → the runtime setting it edits
KEYS = {
    "orchestrator_interval_minutes": "orchestrator.interval_minutes",
    "retry_enabled": "retry.enabled",
    "retry_interval_minutes": "retry.interval_minutes",
    "retry_max_attempts": "retry.max_attempts",
    "log_retention_days": "logging.retention_days",
    "theme": "console.theme",
}
assert set(KEYS) == {f.name for f in fields(ConsoleSettings)}


class SettingsInvalid(Exception):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def load(database: Database, client: str, defaults: ConsoleSettings) -> ConsoleSettings:
    with database.session() as session:
        cid = find_client(session, client)
        if cid is None:
            return defaults
        rows = runtime_settings.stored(session, cid)
    values: dict[str, Any] = asdict(defaults)
    for name, key in KEYS.items():
        if key in rows:
            values[name] = rows[key]
    return ConsoleSettings(**values)


def save(
    database: Database,
    client: str,
    new: ConsoleSettings,
    defaults: ConsoleSettings,
    *,
    actor: str,
) -> list[str]:
    """Store what changed; one audit row listing before → after. Returns changed names."""
    errors = new.problems()
    if errors:
        raise SettingsInvalid(errors)
    old = load(database, client, defaults)
    changed = {
        name: (getattr(old, name), getattr(new, name))
        for name in KEYS
        if getattr(old, name) != getattr(new, name)
    }
    if not changed:
        return []
    with database.session() as session:
        cid = ensure_client(session, client)
        for name, (_, value) in changed.items():
            runtime_settings.store(session, cid, KEYS[name], value, actor=actor)
        audit.note(
            session,
            actor,
            "settings.change",
            {name: {"from": a, "to": b} for name, (a, b) in changed.items()},
        )
    return list(changed)
