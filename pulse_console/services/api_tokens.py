"""Bearer tokens of the HTTP API: create (shown once), list, revoke, and who presents one.

A token is `pulse_` and 32 random bytes (URL-safe base64); only its SHA-256 (hex) is stored
in `api_tokens`, so a leaked table yields no usable token. Each token belongs to one client
and carries one role (viewer, user or admin); the API checks the role each endpoint needs.
Each token has a PostgreSQL role of its own (`db_role`, made at `create`, dropped at
`revoke` or when its client is removed, `storage.tenancy.delete_client`): the API runs a
request's database work as that role, so PostgreSQL enforces the token's rights and client
too (migration 0021). Creating and revoking a token leave an audit row; `authenticate`
notes when a token was last used (at most once a minute, so a busy poller does not write
on every request).
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select, text, update
from sqlalchemy.exc import IntegrityError, ProgrammingError

from pulse_console.services import audit
from pulse_console.services.roles import TOKEN_ROLES
from storage import logins
from storage.db import Database
from storage.models import ApiToken, Client
from storage.tenancy import require_client

PREFIX = "pulse_"


class TokenRefused(ValueError):
    """A token request that cannot be done; `str()` is the operator's one line."""


@dataclass(frozen=True)
class TokenInfo:
    """A token as `token list` shows it (never the token itself)."""

    name: str
    client: str
    role: str
    created_by: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True)
class Caller:
    """Who presented a valid token: its name, client and role."""

    name: str
    client: str
    role: str
    db_role: str | None = None  # the PostgreSQL role its requests run as (None: none yet)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create(
    database: Database, client: str, role: str, *, name: str | None = None, actor: str
) -> tuple[str, TokenInfo]:
    """A new token of `client` with `role`: (the token, shown once; what is stored)."""
    if role not in TOKEN_ROLES:
        raise TokenRefused(f"unknown role {role!r}: choose one of {', '.join(TOKEN_ROLES)}")
    if name is not None and not name.strip():
        raise TokenRefused("a token name cannot be blank")
    token = PREFIX + secrets.token_urlsafe(32)
    try:
        with database.session() as session:
            client_id = require_client(session, client)
            if name is None:
                count = session.execute(
                    select(func.count()).where(ApiToken.client_id == client_id)
                ).scalar_one()
                name = f"{role}-{count + 1}"
            row = ApiToken(
                client_id=client_id,
                name=name.strip(),
                role=role,
                token_hash=digest(token),
                created_by=actor,
                db_role=logins.create_token_role(session.connection(), role, client_id),
            )
            session.add(row)
            session.flush()
            audit.record(session, client, actor, "api_token.create", row.name, {"role": role})
            info = _info(row, client)
    except IntegrityError:
        raise TokenRefused(
            f"client {client!r} already has a token named {name!r}: choose another --name"
        ) from None
    return token, info


def list_tokens(database: Database, client: str) -> list[TokenInfo]:
    """The client's tokens, oldest first (revoked ones too, marked so)."""
    with database.session() as session:
        client_id = require_client(session, client)
        rows = session.execute(
            select(ApiToken).where(ApiToken.client_id == client_id).order_by(ApiToken.id)
        ).scalars()
        return [_info(row, client) for row in rows]


def revoke(database: Database, client: str, name: str, *, actor: str) -> None:
    """Revoke the client's token `name` at once (TokenRefused when there is none)."""
    with database.session() as session:
        client_id = require_client(session, client)
        revoked = session.execute(
            update(ApiToken)
            .where(
                ApiToken.client_id == client_id,
                ApiToken.name == name,
                ApiToken.revoked_at.is_(None),
            )
            .values(revoked_at=func.now())
            .returning(ApiToken.db_role)
        ).first()
        if revoked is None:
            raise TokenRefused(f"client {client!r} has no active token named {name!r}")
        if revoked.db_role is not None:
            logins.drop_token_role(session.connection(), revoked.db_role)
        audit.record(session, client, actor, "api_token.revoke", name)


def authenticate(database: Database, token: str) -> Caller | None:
    """The caller a presented token stands for, or None (unknown or revoked)."""
    if not token.startswith(PREFIX):
        return None
    with database.session() as session:
        row = session.execute(
            select(ApiToken.id, ApiToken.name, ApiToken.role, Client.name, ApiToken.db_role)
            .join(Client, Client.id == ApiToken.client_id)
            .where(ApiToken.token_hash == digest(token), ApiToken.revoked_at.is_(None))
        ).first()
    if row is None:
        return None
    _note_use(database, int(row[0]))
    return Caller(name=row[1], client=row[3], role=row[2], db_role=row[4])


def stamp(database: Database) -> tuple[int, int, int]:
    """What changes whenever a token is created, revoked or removed (with its client):
    (tokens, the highest id, revoked tokens). Ids only grow and a revoked token stays
    revoked, so any of those changes one of the three. The API asks it once a second to
    know whether the callers it remembers still stand (`api.authz.TokenCache`)."""
    with database.session() as session:
        row = session.execute(
            select(
                func.count(),
                func.coalesce(func.max(ApiToken.id), 0),
                func.count(ApiToken.revoked_at),
            )
        ).one()
    return int(row[0]), int(row[1]), int(row[2])


# Uses noted by this process, (engine, token id) -> monotonic time: a poller's token is looked
# up every few seconds, and writing (or trying to write) its last use each time cost the API
# a transaction per lookup.
NOTE_EVERY_SECONDS = 60.0
_noted: dict[tuple[int, int], float] = {}
_noted_lock = threading.Lock()


def _note_use(database: Database, token_id: int) -> None:
    """Remember when the token was used (at most once a minute); a login that may not
    write it (a read-only one serving the API) leaves it unnoted, never refused."""
    key, now = (id(database.engine), token_id), time.monotonic()
    with _noted_lock:
        last = _noted.get(key)
        if last is not None and now - last < NOTE_EVERY_SECONDS:
            return
        if len(_noted) > 10_000:  # many tokens: start again
            _noted.clear()
        _noted[key] = now
    try:
        with database.session() as session:
            session.execute(
                update(ApiToken)
                .where(
                    ApiToken.id == token_id,
                    or_(
                        ApiToken.last_used_at.is_(None),
                        ApiToken.last_used_at < func.now() - text("interval '1 minute'"),
                    ),
                )
                .values(last_used_at=func.now())
            )
    except ProgrammingError:  # insufficient privilege
        pass


def _info(row: ApiToken, client: str) -> TokenInfo:
    return TokenInfo(
        name=row.name,
        client=client,
        role=row.role,
        created_by=row.created_by,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
    )
