"""Everything a screen needs to reach below the TUI, handed to the app once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from pulse_console.services.client_services import ClientServices
from pulse_console.services.integrations import Tester, check_connection
from pulse_console.tui.ports import JobsPort

Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class ConsoleContext:
    services: ClientServices  # bound to the database, client, secrets and actor
    jobs: JobsPort
    export_dir: Path
    clock: Clock = _utc_now
    live: bool = True  # pollers and event streams on (off in snapshot tests)
    tester: Tester = check_connection
    keymap: dict[str, str] = field(default_factory=dict)
    label: str | None = None  # fixed database label (snapshots); default from the database
    signals: bool = False  # SIGTERM/SIGHUP leave cleanly (the real console, not tests)
    probe_seconds: float = 2.0  # how often a live console checks the database is there
    role: str | None = "admin"  # the login's product role (services.roles); owner: admin
    operator: str | None = None  # `login · role` in the header, when not the owner

    @property
    def client(self) -> str:
        return self.services.client

    @property
    def log_dir(self) -> Path:
        return self.services.log_dir

    @property
    def database_label(self) -> str:
        return self.label or self.services.database_label
