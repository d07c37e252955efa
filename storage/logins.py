"""Operators' PostgreSQL logins: create, give a product role, join clients, list, remove.

A login is a PostgreSQL role with LOGIN, a member of one product group (`storage.identity`
GROUPS) and of the clients its `client_members` rows name. A password is sent only as a
SCRAM-SHA-256 verifier computed here (RFC 5802/7677, the format PostgreSQL stores in
pg_authid: https://www.postgresql.org/docs/current/catalog-pg-authid.html), so the
plaintext never reaches the server or its statement log. Without a password the login
authenticates however pg_hba.conf says (peer, certificate).

Admin logins get CREATEROLE and the ADMIN OPTION on the four product groups, so that they
can manage logins in turn (PostgreSQL 16 wants both to grant a group; 13-15 need only
CREATEROLE). Not on `pulse_all_clients`: only the owner makes a login see every client.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from psycopg import errors, sql
from sqlalchemy import Connection, text

from storage.identity import ALL_CLIENTS, GROUPS, role_of

_NAME = re.compile(r"[a-z_][a-z0-9_.@-]{0,62}")
_RESERVED = ("pulse_", "pg_")
SCRAM_ITERATIONS = 4096


class LoginError(ValueError):
    """A login request that cannot be done; `str()` is the operator's line."""


@dataclass(frozen=True)
class Login:
    name: str
    role: str | None
    all_clients: bool
    clients: tuple[str, ...]
    can_login: bool


def check_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise LoginError(
            f"{name!r} is not a login name: lower-case letters, digits and _ . @ -, "
            "starting with a letter or _, at most 63"
        )
    if name.startswith(_RESERVED):
        raise LoginError(f"{name!r} is reserved: names starting pulse_ or pg_ are groups")
    return name


def scram_verifier(password: str, *, salt: bytes | None = None) -> str:
    """`SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>` for `password`."""
    salt = salt or secrets.token_bytes(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, SCRAM_ITERATIONS)
    client_key = hmac.digest(salted, b"Client Key", "sha256")
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.digest(salted, b"Server Key", "sha256")

    def b64(raw: bytes) -> str:
        return base64.b64encode(raw).decode()

    return f"SCRAM-SHA-256${SCRAM_ITERATIONS}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


def _exec(conn: Connection, statement: sql.Composable) -> None:
    """Run a composed statement (quoted identifiers) in `conn`'s transaction."""
    raw = conn.connection.driver_connection
    assert raw is not None
    raw.execute(statement)


def exists(conn: Connection, name: str) -> bool:
    found = conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :n"), {"n": name})
    return found.first() is not None


def _require(conn: Connection, name: str) -> None:
    if not exists(conn, check_name(name)):
        raise LoginError(f"there is no login {name!r} (see `pulse-console user list`)")


def _group(role: str) -> str:
    try:
        return GROUPS[role]
    except KeyError:
        raise LoginError(f"unknown role {role!r}: one of {', '.join(GROUPS)}") from None


def create(
    conn: Connection,
    name: str,
    role: str,
    *,
    password: str | None = None,
    clients: Iterable[int] = (),
    all_clients: bool = False,
) -> None:
    """Create login `name` with `role`, its password (None: none) and its clients."""
    _group(role)  # a known role, before anything is created
    if exists(conn, check_name(name)):
        raise LoginError(f"login {name!r} exists already (see `pulse-console user set-role`)")
    parts: list[sql.Composable] = [sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(name))]
    if role == "admin":
        parts.append(sql.SQL("CREATEROLE"))
    if password is not None:
        parts.append(sql.SQL("PASSWORD {}").format(sql.Literal(scram_verifier(password))))
    _exec(conn, sql.SQL(" ").join(parts))
    _grant_role(conn, name, role)
    if all_clients:
        _exec(
            conn,
            sql.SQL("GRANT {} TO {}").format(sql.Identifier(ALL_CLIENTS), sql.Identifier(name)),
        )
    for client_id in clients:
        grant_client(conn, name, client_id)


def set_role(conn: Connection, name: str, role: str) -> None:
    """Make `role` the login's only product role."""
    _group(role)
    _require(conn, name)
    for other in GROUPS.values():  # all of them: an admin's ADMIN OPTION goes too
        if _member(conn, name, other):
            _exec(
                conn,
                sql.SQL("REVOKE {} FROM {}").format(sql.Identifier(other), sql.Identifier(name)),
            )
    _grant_role(conn, name, role)
    create_role = sql.SQL("CREATEROLE" if role == "admin" else "NOCREATEROLE")
    _exec(conn, sql.SQL("ALTER ROLE {} {}").format(sql.Identifier(name), create_role))


def _grant_role(conn: Connection, name: str, role: str) -> None:
    """Membership in the role's group; an admin holds every product group WITH ADMIN OPTION."""
    groups = list(GROUPS.values()) if role == "admin" else [GROUPS[role]]
    statement = sql.SQL("GRANT {} TO {}").format(
        sql.SQL(", ").join(sql.Identifier(g) for g in groups), sql.Identifier(name)
    )
    if role == "admin":
        statement = sql.SQL("{} WITH ADMIN OPTION").format(statement)
    _exec(conn, statement)


def _member(conn: Connection, name: str, group: str) -> bool:
    found = conn.execute(
        text(
            "SELECT 1 FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid"
            " JOIN pg_roles r ON r.oid = m.member WHERE r.rolname = :n AND g.rolname = :g"
        ),
        {"n": name, "g": group},
    )
    return found.first() is not None


def grant_client(conn: Connection, name: str, client_id: int) -> None:
    _require(conn, name)
    conn.execute(
        text(
            "INSERT INTO client_members (role_name, client_id) VALUES (:n, :c)"
            " ON CONFLICT DO NOTHING"
        ),
        {"n": name, "c": client_id},
    )


def revoke_client(conn: Connection, name: str, client_id: int) -> bool:
    """Remove the membership; False when there was none (to this caller's knowledge)."""
    _require(conn, name)
    done = conn.execute(
        text("DELETE FROM client_members WHERE role_name = :n AND client_id = :c"),
        {"n": name, "c": client_id},
    )
    return bool(done.rowcount)


def remove(conn: Connection, name: str) -> None:
    """Drop the login and its memberships (its rows elsewhere stay: they are history)."""
    _require(conn, name)
    if not any(_member(conn, name, group) for group in GROUPS.values()):
        raise LoginError(f"{name!r} is not a Pulse Console login: it is left alone")
    conn.execute(text("DELETE FROM client_members WHERE role_name = :n"), {"n": name})
    try:
        _exec(conn, sql.SQL("DROP ROLE {}").format(sql.Identifier(name)))
    except errors.DependentObjectsStillExist as exc:
        # Privileges it holds or granted, objects it owns (DROP ROLE, PostgreSQL docs:
        # https://www.postgresql.org/docs/16/sql-droprole.html); memberships never block.
        first = (exc.diag.message_detail or "").splitlines()[:1]
        held = f" ({first[0]})" if first else ""
        raise LoginError(
            f"login {name!r} still holds rights or objects in this database{held}: "
            f"as the owner, REASSIGN OWNED BY and DROP OWNED BY it, then remove it again"
        ) from None


_LIST = text(
    """
    SELECT r.rolname AS name, r.rolcanlogin AS can_login,
           array_agg(DISTINCT g.rolname) AS groups,
           coalesce((SELECT array_agg(c.name ORDER BY c.name) FROM client_members m
                     JOIN clients c ON c.id = m.client_id WHERE m.role_name = r.rolname),
                    '{}') AS clients
    FROM pg_roles r
    JOIN pg_auth_members am ON am.member = r.oid
    JOIN pg_roles g ON g.oid = am.roleid AND g.rolname LIKE 'pulse\\_%'
    WHERE r.rolname NOT LIKE 'pulse\\_%' AND (CAST(:name AS text) IS NULL OR r.rolname = :name)
    GROUP BY r.rolname, r.rolcanlogin
    ORDER BY r.rolname
    """
)


TOKEN_ROLE_PREFIX = "pulse_tok_"
API_GROUP = "pulse_api"  # its members (the logins that serve the API) may act as any token


def create_token_role(conn: Connection, role: str, client_id: int) -> str:
    """A new NOLOGIN role for an API token of `client_id` with product `role` (migration
    0021): a member of the role's group and of the client, granted to `pulse_api`."""
    name = TOKEN_ROLE_PREFIX + secrets.token_hex(8)
    ident = sql.Identifier(name)
    _exec(conn, sql.SQL("CREATE ROLE {} NOLOGIN").format(ident))
    _exec(conn, sql.SQL("GRANT {} TO {}").format(sql.Identifier(_group(role)), ident))
    _exec(conn, sql.SQL("GRANT {} TO {}").format(ident, sql.Identifier(API_GROUP)))
    conn.execute(
        text("INSERT INTO client_members (role_name, client_id) VALUES (:n, :c)"),
        {"n": name, "c": client_id},
    )
    return name


def drop_token_role(conn: Connection, name: str) -> None:
    """Drop an API token's role (it owns nothing and granted nothing: it never fails)."""
    if not name.startswith(TOKEN_ROLE_PREFIX):
        raise LoginError(f"{name!r} is not an API token's role: it is left alone")
    conn.execute(text("DELETE FROM client_members WHERE role_name = :n"), {"n": name})
    _exec(conn, sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(name)))


def find(conn: Connection, name: str) -> Login | None:
    """Login `name` as `list_logins` shows it; None when it is not a Pulse Console login."""
    found = list_logins(conn, name)
    return found[0] if found else None


def list_logins(conn: Connection, name: str | None = None) -> list[Login]:
    """Every role that is a member of a Pulse group (or only `name`), with its role and
    (visible) clients."""
    logins = []
    for row in conn.execute(_LIST, {"name": name}):
        groups = set(row.groups)
        logins.append(
            Login(
                name=row.name,
                role=role_of(groups, owner=False),
                all_clients=ALL_CLIENTS in groups,
                clients=tuple(row.clients),
                can_login=bool(row.can_login),
            )
        )
    return logins
