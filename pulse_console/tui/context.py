"""Everything a screen needs to reach below the TUI, handed to the app once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from pulse_console.services.integrations import Tester, check_connection
from pulse_console.services.settings import ConsoleSettings
from pulse_console.tui.ports import JobsPort
from storage.db import Database
from storage.secrets import SecretStore

Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class ConsoleContext:
    client: str
    database: Database
    jobs: JobsPort
    log_dir: Path
    export_dir: Path
    secrets: SecretStore | None = None
    actor: str = "console"
    defaults: ConsoleSettings = field(default_factory=ConsoleSettings)
    clock: Clock = _utc_now
    live: bool = True  # pollers and event streams on (off in snapshot tests)
    tester: Tester = check_connection
    keymap: dict[str, str] = field(default_factory=dict)
    label: str | None = None  # fixed database label (snapshots); default from the database
    signals: bool = False  # SIGTERM/SIGHUP leave cleanly (the real console, not tests)
    probe_seconds: float = 2.0  # how often a live console checks the database is there

    @property
    def database_label(self) -> str:
        return self.label or self.database.label
