"""The role rule: which product role each action needs, in one place.

The console (disabled keys and palette entries), the CLI (`commands.database.open_for`) and
the HTTP API ask `refusal(role, action)` before doing anything; PostgreSQL's GRANTs and
row-level security (migration 0013) are the backstop when something asks anyway.

Roles: viewer < user < admin (each may do what the one before may), and worker beside
them (runs the engine and syncs; admins may too). Importing this module loads no database
code, so the CLI can refuse fast.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    VIEWER = "viewer"
    USER = "user"
    ADMIN = "admin"
    WORKER = "worker"


class Action(StrEnum):
    """What a person (or worker) may ask for; the value is how errors name it."""

    READ = "read"  # status, jobs, logs, metrics, integrations (never secrets)
    CONTROL = "control"  # start, stop, pause, resume, set active; orchestrator start/pause
    EXPORT_LOGS = "export logs"
    RUN_ENGINE = "run the engine"  # worker, sync in the foreground
    MANAGE_INTEGRATIONS = "manage integrations"  # and their secrets
    MANAGE_MAPPINGS = "manage mappings"
    MANAGE_SETTINGS = "manage settings"  # orchestrator and console settings
    MANAGE_LOG_FILES = "manage log files"
    MANAGE_CLIENTS = "manage clients"
    MANAGE_USERS = "manage users"


# The weakest role that may do each action (admins may do everything).
NEEDS: dict[Action, Role] = {
    Action.READ: Role.VIEWER,
    Action.CONTROL: Role.USER,
    Action.EXPORT_LOGS: Role.USER,
    Action.RUN_ENGINE: Role.WORKER,
    Action.MANAGE_INTEGRATIONS: Role.ADMIN,
    Action.MANAGE_MAPPINGS: Role.ADMIN,
    Action.MANAGE_SETTINGS: Role.ADMIN,
    Action.MANAGE_LOG_FILES: Role.ADMIN,
    Action.MANAGE_CLIENTS: Role.ADMIN,
    Action.MANAGE_USERS: Role.ADMIN,
}

_RANK = {Role.VIEWER: 1, Role.USER: 2, Role.ADMIN: 3}


class RoleRefused(Exception):
    """The login's role may not do the action; `str()` is the operator's one line."""


def allows(role: str | None, action: Action) -> bool:
    """True when `role` (a Role value, None for a login with no product role) may `action`."""
    if role is None:
        return False
    needed = NEEDS[action]
    if role == Role.ADMIN:
        return True
    if needed is Role.WORKER or role == Role.WORKER:
        # A worker reads what it loads; it runs the engine and nothing else.
        return role == Role.WORKER and action in (Action.RUN_ENGINE, Action.READ)
    return _RANK[Role(role)] >= _RANK[needed]


def refusal(role: str | None, action: Action) -> str | None:
    """None when allowed, else the one line every face shows: "needs role user"."""
    if allows(role, action):
        return None
    return f"needs role {NEEDS[action].value}"


def require(role: str | None, action: Action, *, login: str) -> None:
    """Raise `RoleRefused` ("alice (viewer) may not control: needs role user")."""
    why = refusal(role, action)
    if why:
        raise RoleRefused(f"{login} ({role or 'no role'}) may not {action.value}: {why}")
