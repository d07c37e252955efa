"""Who is connected: the PostgreSQL login, the product role its groups give it, its clients.

Identity is the role in effect (`current_user`): the login, or the role it acts as after
`SET ROLE` (`Database.acting_as`, e.g. an API token's role), whose rights PostgreSQL
applies. The product's roles are the group roles migration 0013 creates: `pulse_viewer` <
`pulse_user` < `pulse_admin`, `pulse_worker` beside them and `pulse_all_clients` for a
login that sees every client. The owner of the schema (and a superuser, e.g. the local user
of the embedded database) is admin of everything.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Engine, text

from storage.visibility import visible_clients

# Product role -> group role, strongest first (a login in several gets the strongest).
GROUPS: dict[str, str] = {
    "admin": "pulse_admin",
    "user": "pulse_user",
    "viewer": "pulse_viewer",
    "worker": "pulse_worker",
}
ALL_CLIENTS = "pulse_all_clients"

_WHOAMI = text(
    """
    SELECT current_user AS login,
           r.rolsuper
             OR pg_has_role(current_user, (SELECT relowner FROM pg_class
                                           WHERE oid = to_regclass('clients')), 'MEMBER')
             AS owner,
           coalesce(array_agg(g.rolname) FILTER (
               WHERE pg_has_role(current_user, g.oid, 'MEMBER')), '{}') AS groups
    FROM pg_roles r
    LEFT JOIN pg_roles g ON g.rolname LIKE 'pulse\\_%'
    WHERE r.rolname = current_user
    GROUP BY r.rolname, r.rolsuper
    """
)


@dataclass(frozen=True)
class Identity:
    """The connected login, its product role (None: no product role) and visible clients."""

    login: str
    role: str | None
    owner: bool
    all_clients: bool
    clients: tuple[str, ...]

    @property
    def label(self) -> str:
        """`login · role` for headers."""
        return f"{self.login} · {self.role or 'no role'}"


def role_of(groups: set[str], *, owner: bool) -> str | None:
    """The strongest product role among `groups` (the owner is admin)."""
    if owner:
        return "admin"
    return next((role for role, group in GROUPS.items() if group in groups), None)


def whoami(engine: Engine | Connection) -> Identity:
    """The identity of the engine's login (one round trip for the role, one for clients)."""
    if isinstance(engine, Engine):
        with engine.connect() as conn:
            return whoami(conn)
    row = engine.execute(_WHOAMI).one()
    groups = set(row.groups)
    owner = bool(row.owner)
    all_clients = owner or ALL_CLIENTS in groups
    clients = sorted(name for _, name in visible_clients(engine))
    return Identity(
        login=row.login,
        role=role_of(groups, owner=owner),
        owner=owner,
        all_clients=all_clients,
        clients=tuple(clients),
    )
