"""Clients (tenants): find-or-create, what a role may see, and removal that also clears the
bulk fact tables and its API tokens' roles.

The bulk-loaded tables carry `client_id` without a foreign key (see models), so removing a
client deletes their rows here explicitly, in one transaction with the client itself; the
PostgreSQL roles of its tokens (migration 0021) are dropped in that transaction too.
"""

from __future__ import annotations

from sqlalchemy import delete, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from storage import logins
from storage.models import (
    ApiToken,
    Client,
    Deployment,
    PrComment,
    PrCommit,
    PrReview,
    PullRequest,
    WorkItem,
    WorkItemLink,
    WorkItemStatusSpan,
    WorkItemTransition,
)
from storage.visibility import MAY_SEE, visible_clients

# Children before parents, so foreign keys between fact tables never block a delete.
_BULK_TABLES = (
    WorkItemLink,
    WorkItemStatusSpan,
    WorkItemTransition,
    PrCommit,
    PrReview,
    PrComment,
    Deployment,
    PullRequest,
    WorkItem,
)


def ensure_client(session: Session, name: str, display_name: str | None = None) -> int:
    """The id of client `name`, creating it if needed (safe under concurrent callers)."""
    stmt = insert(Client).values(name=name, display_name=display_name or name)
    session.execute(stmt.on_conflict_do_nothing(index_elements=[Client.name]))
    return int(session.execute(select(Client.id).where(Client.name == name)).scalar_one())


def find_client(session: Session, name: str) -> int | None:
    value = session.execute(select(Client.id).where(Client.name == name)).scalar()
    return None if value is None else int(value)


class UnknownClient(LookupError):
    """A command named a client that does not exist; `str()` says how one is created."""

    def __str__(self) -> str:
        return (
            f"there is no client {self.args[0]!r} (check --client; `pulse-console client list` "
            f"shows them); an admin creates it with `pulse-console client add {self.args[0]}`"
        )


def require_client(session: Session, name: str) -> int:
    """The id of client `name`; UnknownClient if there is none (never creates one)."""
    client_id = find_client(session, name)
    if client_id is None:
        raise UnknownClient(name)
    return client_id


class HiddenClient(LookupError):
    """Row-level security hides the client from the session's role (or it does not exist)."""

    def __str__(self) -> str:
        return f"there is no client {self.args[0]!r} visible to this caller"


# The one visibility rule (`storage.visibility`) behind `require_visible_client` (the API,
# acting as a token's role) and `visible_clients` (a worker choosing what it serves).
_VISIBLE = text(f"SELECT c.id FROM clients c WHERE c.name = :name AND {MAY_SEE}")


def require_visible_client(session: Session, name: str) -> int:
    """The id of client `name` when the session's role may see its rows; HiddenClient
    otherwise (a role given a client: an API token's own role, a login made its member;
    or one that sees every client)."""
    client_id = session.execute(_VISIBLE, {"name": name}).scalar()
    if client_id is None:
        raise HiddenClient(name)
    return int(client_id)


def lock_client_to_change(session: Session, client_id: int) -> bool:
    """Lock the client's row for a rename or removal; False when PostgreSQL does not let
    the session's role change it (migration 0024: only a client whose rows it may see).
    FOR NO KEY UPDATE: rows that refer to the client may still be written meanwhile."""
    locked = session.execute(
        select(Client.id).where(Client.id == client_id).with_for_update(key_share=True)
    )
    return locked.first() is not None


class NotAMember(UnknownClient):
    """The client exists but the login is not one of its members (nor sees every client)."""

    def __str__(self) -> str:
        return (
            f"this login may not see client {self.args[0]!r}: an admin lets it with "
            f"`pulse-console user grant <login> --client {self.args[0]}`"
        )


def visible_named(session: Session, names: tuple[str, ...]) -> list[tuple[int, str]]:
    """(id, name) of each named client, in that order; UnknownClient for a client that does
    not exist, NotAMember for one the login may not see."""
    visible = {name: client_id for client_id, name in visible_clients(session)}
    found = []
    for name in names:
        require_client(session, name)
        if name not in visible:
            raise NotAMember(name)
        found.append((visible[name], name))
    return found


def client_name(session: Session, client_id: int) -> str:
    return str(session.execute(select(Client.name).where(Client.id == client_id)).scalar_one())


def delete_client(session: Session, client_id: int) -> None:
    """Every row of the client, and the PostgreSQL roles of its API tokens (cluster-wide
    objects no cascade reaches: left behind, they would outlive the client)."""
    found = session.execute(select(ApiToken.db_role).where(ApiToken.client_id == client_id))
    token_roles = [role for role in found.scalars() if role is not None]
    for model in _BULK_TABLES:
        session.execute(delete(model).where(model.client_id == client_id))
    session.execute(delete(Client).where(Client.id == client_id))
    for role in token_roles:  # (a revoked token's is gone already: IF EXISTS)
        logins.drop_token_role(session.connection(), role)
