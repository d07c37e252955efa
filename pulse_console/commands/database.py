"""Opening the configured database for a command: the one opener `cli.py` and the command
modules share (it lives here, not in `cli.py`, so no command module imports the CLI back)."""

from __future__ import annotations

from pulse_console.config import Settings
from storage.db import Database, open_database


def open_configured(settings: Settings, *, upgrade_embedded: bool = True) -> Database:
    """The database of `settings` (an embedded one is upgraded to the current schema unless
    `upgrade_embedded` is False)."""
    return open_database(
        settings.database_url, settings.data_dir, upgrade_embedded=upgrade_embedded
    )
