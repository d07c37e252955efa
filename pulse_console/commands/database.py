"""Opening the configured database and secret store for a command: the one opener every
command module shares (here, not in `cli.py`, so no command module imports the CLI back;
tests point the commands at their own database by replacing these two functions)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pulse_console.config import Settings
    from storage.db import Database
    from storage.secrets import SecretStore


def open_configured(settings: Settings, *, upgrade_embedded: bool = True) -> Database:
    """The database of `settings` (an embedded one is upgraded to the current schema unless
    `upgrade_embedded` is False)."""
    # Imported when called: `--version` and `--help` load no database code.
    from pulse_console.engine.service import default_actor
    from storage.audit_context import set_process_actor
    from storage.db import open_database

    set_process_actor(default_actor())  # the audit trail names this operator@host

    return open_database(
        settings.database_url, settings.data_dir, upgrade_embedded=upgrade_embedded
    )


def open_secrets(database: Database, settings: Settings) -> SecretStore:
    """The secret store of `settings` (OS keyring, else encrypted in `database`)."""
    from storage.secrets import open_secret_store

    return open_secret_store(database.engine, settings.data_dir)
