"""Console fixtures: a context on the real test database with a fixed clock, no pollers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet

from pulse_console.tui.app import PulseApp
from pulse_console.tui.context import ConsoleContext
from storage.db import Database
from storage.secrets import DatabaseSecretStore
from tests.tui.fakes import NOW, FakeJobs


def make_ctx(
    database: Database, tmp_path: Path, jobs: FakeJobs | None = None, **changes: Any
) -> ConsoleContext:
    log_dir = tmp_path / "logs"
    log_dir.mkdir(exist_ok=True)
    return ConsoleContext(
        client="acme",
        database=database,
        jobs=jobs or FakeJobs(),
        log_dir=log_dir,
        export_dir=tmp_path / "exports",
        secrets=DatabaseSecretStore(database.engine, Fernet.generate_key()),
        actor="ada",
        clock=lambda: NOW,
        live=False,
        label="test-db",
        **changes,
    )


@pytest.fixture
def ctx(database: Database, tmp_path: Path) -> ConsoleContext:
    return make_ctx(database, tmp_path)


class SnapApp(PulseApp):
    """The console as snapshots see it: a fixed database label, no cursor blink."""

    def on_mount(self) -> None:
        super().on_mount()
        for widget in self.query("Input"):
            widget.cursor_blink = False  # type: ignore[attr-defined]
