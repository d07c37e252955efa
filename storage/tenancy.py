"""Clients (tenants): find-or-create, and removal that also clears the bulk fact tables.

The bulk-loaded tables carry `client_id` without a foreign key (see models), so removing a
client deletes their rows here explicitly, in one transaction with the client itself.
"""

from __future__ import annotations

from sqlalchemy import delete, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from storage.models import (
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


# Row-level security's own rule (migration 0013): member clients, or all of them for
# pulse_all_clients and the owner (the clients table itself is readable by every login).
_VISIBLE = text(
    "SELECT id, name FROM clients"
    " WHERE id = ANY (pulse_visible_client_ids())"
    " OR pg_has_role(current_user, 'pulse_all_clients', 'MEMBER')"
    " OR pg_has_role(current_user, (SELECT relowner FROM pg_class"
    "                               WHERE oid = 'clients'::regclass), 'MEMBER')"
    " ORDER BY id"
)


def visible_clients(session: Session) -> list[tuple[int, str]]:
    """(id, name) of the clients whose rows the login may see and write, by id."""
    return [(int(i), str(n)) for i, n in session.execute(_VISIBLE).all()]


class HiddenClient(UnknownClient):
    """The client exists but the login is not one of its members."""

    def __str__(self) -> str:
        return (
            f"this login may not see client {self.args[0]!r}: an admin lets it with "
            f"`pulse-console user grant <login> --client {self.args[0]}`"
        )


def visible_named(session: Session, names: tuple[str, ...]) -> list[tuple[int, str]]:
    """(id, name) of each named client, in that order; UnknownClient for a client that does
    not exist, HiddenClient for one the login may not see."""
    visible = {name: client_id for client_id, name in visible_clients(session)}
    found = []
    for name in names:
        require_client(session, name)
        if name not in visible:
            raise HiddenClient(name)
        found.append((visible[name], name))
    return found


def client_name(session: Session, client_id: int) -> str:
    return str(session.execute(select(Client.name).where(Client.id == client_id)).scalar_one())


def delete_client(session: Session, client_id: int) -> None:
    for model in _BULK_TABLES:
        session.execute(delete(model).where(model.client_id == client_id))
    session.execute(delete(Client).where(Client.id == client_id))
