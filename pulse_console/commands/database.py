"""Opening the configured database and secret store for a command: the one opener every
command module shares (here, not in `cli.py`, so no command module imports the CLI back;
tests point the commands at their own database by replacing these two functions).

`open_for(settings, needs)` is how a command opens the database: it states the action
(`services.roles.Action`) and is refused before doing anything when the login's role may
not do it."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pulse_console.config import Settings
    from pulse_console.services.roles import Action
    from storage.db import Database
    from storage.secrets import SecretStore


def open_configured(settings: Settings, *, upgrade_embedded: bool = True) -> Database:
    """The database of `settings` (an embedded one is upgraded to the current schema unless
    `upgrade_embedded` is False)."""
    # Imported when called: `--version` and `--help` load no database code.
    from storage.db import open_database

    return open_database(
        settings.database_url, settings.data_dir, upgrade_embedded=upgrade_embedded
    )


def open_secrets(database: Database, settings: Settings) -> SecretStore:
    """The secret store of `settings` (OS keyring, else encrypted in `database`)."""
    from storage.secrets import open_secret_store

    return open_secret_store(database.engine, settings.data_dir)


def open_for(settings: Settings, needs: Action, *, upgrade_embedded: bool = True) -> Database:
    """The database of `settings`, once the login's role may do `needs` (the role rule,
    `services.roles`); else `RoleRefused`, which the CLI prints as one line with exit 2
    before the command has done anything."""
    from sqlalchemy.exc import ProgrammingError

    from pulse_console.services.identity import require

    database = open_configured(settings, upgrade_embedded=upgrade_embedded)
    try:
        try:
            require(database, needs)
        except ProgrammingError as exc:
            if getattr(exc.orig, "sqlstate", None) not in _NOT_THERE:
                raise
            from storage import migrate

            migrate.require_current(database.engine)  # a schema behind says so, in one line
            raise
    except BaseException:
        database.dispose()
        raise
    return database


# undefined_table, undefined_function: the identity query on a schema older than 0013
_NOT_THERE = {"42P01", "42883"}
