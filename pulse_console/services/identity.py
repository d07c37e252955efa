"""Who the console, the CLI or the API is talking for: the login, its role and clients.

`current(database)` asks PostgreSQL (`storage.identity`); `require(database, action)` checks
the role rule (`services.roles`) against it and raises `RoleRefused` with the one line.
"""

from __future__ import annotations

from pulse_console.services.roles import Action, allows, refusal
from pulse_console.services.roles import require as require_role
from storage.db import Database
from storage.identity import Identity, whoami

__all__ = ["Identity", "allows", "current", "refusal", "require"]


def current(database: Database) -> Identity:
    return whoami(database.engine)


def require(database: Database, action: Action) -> Identity:
    """The identity, when its role may `action`; else `RoleRefused`."""
    identity = current(database)
    require_role(identity.role, action, login=identity.login)
    return identity
