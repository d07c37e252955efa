"""Integrations: list, validate and save (token to the secret store), test, deactivate."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from connectors.aha import AhaClient
from connectors.azure_devops import AzureDevOpsClient
from connectors.base import ConnectionCheck
from connectors.github import GitHubClient, split_tokens
from connectors.jira.client import JiraClient
from connectors.secret import Secret
from pulse_console.inputs import SLUG_RULE, BadInput, check_base_url, is_slug
from pulse_console.pipelines.context import IntegrationNotFound, find_integration
from pulse_console.pipelines.registry import offered_types
from pulse_console.services import audit
from pulse_console.services.integration_fields import field_problems
from storage.db import Database
from storage.integrations import record_connection_test, save_integration, secret_name
from storage.models import Integration, Repository
from storage.secrets import SecretStore
from storage.tenancy import ensure_client, find_client

# The types an operator may add: those with a pipeline (the form's choices, `validate`).
TYPES = offered_types()
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class IntegrationView:
    id: int
    name: str
    type: str
    base_url: str
    email: str | None
    active: bool
    has_token: bool
    last_test_at: datetime | None
    last_test_ok: bool | None
    last_test_message: str | None
    last_sync_at: datetime | None
    repositories: int = 0
    config: dict[str, Any] = field(default_factory=dict)  # the form shows the type's settings


@dataclass(frozen=True)
class RepositoryView:
    full_name: str
    discovered_by: str | None
    active: bool


@dataclass(frozen=True)
class IntegrationDraft:
    """What the form holds. `token` None = keep the stored one."""

    name: str
    type: str
    base_url: str
    email: str = ""
    token: str | None = None
    existing_id: int | None = None
    config: dict[str, Any] = field(default_factory=dict)


def validate(draft: IntegrationDraft) -> dict[str, str]:
    """Per-field problems, keyed by field name; empty means valid."""
    errors: dict[str, str] = {}
    if not is_slug(draft.name):
        errors["name"] = f"Use {SLUG_RULE}."
    if draft.type not in TYPES:
        errors["type"] = f"Choose one of: {', '.join(TYPES)}."
    try:
        check_base_url(draft.base_url)
    except BadInput as exc:
        errors["base_url"] = f"{str(exc)[0].upper()}{str(exc)[1:]}."
    if draft.type == "jira" and draft.email and not _EMAIL.match(draft.email.strip()):
        errors["email"] = "An e-mail address, e.g. ada@example.com (Cloud needs one)."
    data_center = draft.config.get("deployment") == "data_center"
    if draft.type == "jira" and not draft.email and not data_center:
        errors["email"] = "Jira Cloud signs in with e-mail and API token (or tick Data Center)."
    if draft.type == "github" and draft.config.get("patterns") and not draft.config.get("orgs"):
        errors["patterns"] = "Patterns pick repositories within an organisation: name one."
    errors.update(field_problems(draft.type, draft.config))
    if draft.existing_id is None and not draft.token:
        errors["token"] = "A token is required for a new integration."
    elif draft.token is not None and draft.token != draft.token.strip():
        errors["token"] = "The token has leading or trailing spaces."
    return errors


class ValidationFailed(Exception):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def list_integrations(
    database: Database, client: str, secrets: SecretStore | None = None
) -> list[IntegrationView]:
    with database.session() as session:
        client_id = find_client(session, client)
        if client_id is None:
            return []
        repos = (
            select(Repository.integration_id, func.count().label("n"))
            .group_by(Repository.integration_id)
            .subquery()
        )
        rows = session.execute(
            select(Integration, repos.c.n)
            .outerjoin(repos, repos.c.integration_id == Integration.id)
            .where(Integration.client_id == client_id)
            .order_by(Integration.name)
        ).all()
        return [_view(client, row[0], int(row[1] or 0), secrets) for row in rows]


def _view(
    client: str, row: Integration, repos: int, secrets: SecretStore | None
) -> IntegrationView:
    has_token = bool(row.secret_ref)
    if secrets is not None and row.secret_ref:
        has_token = secrets.get(row.secret_ref) is not None
    return IntegrationView(
        id=row.id,
        name=row.name,
        type=row.type,
        base_url=row.base_url,
        email=(row.config or {}).get("email"),
        active=row.active,
        has_token=has_token,
        last_test_at=row.last_test_at,
        last_test_ok=row.last_test_ok,
        last_test_message=row.last_test_message,
        last_sync_at=row.last_sync_at,
        repositories=repos,
        config=dict(row.config or {}),
    )


def _owned(session: Session, client: str, integration_id: int) -> Integration | None:
    """The client's integration `integration_id`; another client's counts as missing."""
    row = session.get(Integration, integration_id)
    return row if row is not None and row.client_id == find_client(session, client) else None


def repositories(database: Database, client: str, integration_id: int) -> list[RepositoryView]:
    with database.session() as session:
        if _owned(session, client, integration_id) is None:
            return []
        rows = session.execute(
            select(Repository)
            .where(Repository.integration_id == integration_id)
            .order_by(Repository.full_name)
        ).scalars()
        return [RepositoryView(r.full_name, r.discovered_by, r.active) for r in rows]


def save(
    database: Database,
    client: str,
    draft: IntegrationDraft,
    secrets: SecretStore,
    *,
    actor: str,
    check: ConnectionCheck | None = None,
) -> int:
    """Insert or update; the token goes to the secret store, only its name to the row.

    An edit changes only what the draft holds: stored config keys the draft does not name
    (set by the CLI or by hand, e.g. `page_size`) are kept; a key the draft clears (None)
    is removed. `check`, the form's test of this draft, becomes the integration's last test.
    """
    errors = validate(draft)
    if errors:
        raise ValidationFailed(errors)
    config = {**draft.config, "email": draft.email.strip() or None}
    values = {
        "name": draft.name,
        "type": draft.type,
        "base_url": draft.base_url.strip().rstrip("/"),
        "config": config,
        "active": True,
        "updated_at": func.now(),
    }
    with database.session() as session:
        client_id = ensure_client(session, client)
    with database.session() as session:
        if draft.existing_id is None:
            new_id = save_integration(
                session,
                client_id=client_id,
                name=draft.name,
                type=draft.type,
                base_url=str(values["base_url"]),
                config=_without_blanks(config),
            )
            action = "integration.add"
        else:
            old = session.get(Integration, draft.existing_id)
            if old is None or old.client_id != client_id:
                raise ValidationFailed({"name": "This integration no longer exists."})
            kept = dict(old.config or {}) if old.type == draft.type else {}
            values["config"] = _without_blanks({**kept, **config})
            # Keyed by ids, the token stays where it is when the integration is renamed.
            values["secret_ref"] = secret_name(client_id, draft.existing_id)
            session.execute(
                update(Integration).where(Integration.id == draft.existing_id).values(**values)
            )
            new_id = draft.existing_id
            action = "integration.edit"
        if draft.token is not None:
            secrets.set(secret_name(client_id, new_id), draft.token)
        if check is not None:
            record_connection_test(
                session, new_id, ok=check.ok, message=check.message[:500], at=datetime.now(UTC)
            )
        audit.note(
            session,
            actor,
            action,
            {
                "type": draft.type,
                "base_url": values["base_url"],
                "token_changed": bool(draft.token),
            },
        )
        if draft.token is not None and secrets.kind != "database":
            # Outside the database no trigger sees the token change: its own one row.
            audit.record(
                session, client, actor, "integration.token", draft.name, {"store": secrets.kind}
            )
    return new_id


def _without_blanks(config: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in config.items() if value is not None}


Tester = Callable[[IntegrationDraft, str], ConnectionCheck]


def check_connection(
    draft: IntegrationDraft, token: str, *, transport: httpx.BaseTransport | None = None
) -> ConnectionCheck:
    """One cheap authenticated call through the connector for the draft's type.

    GitHub takes several tokens, one a line, used in turn: each is tested on its own, and a
    failure names its line, so a bad second token is found now rather than at sync time.
    """
    if draft.type != "github":
        return _check_one(draft, token, transport)
    lines = [(n, line.strip()) for n, line in enumerate(token.splitlines(), 1) if line.strip()]
    if not lines:
        return ConnectionCheck(ok=False, title="No token", message="No GitHub token given.")
    check = ConnectionCheck(ok=False, message="")
    for number, line in lines:
        check = _check_one(draft, line, transport)
        if not check.ok and len(lines) > 1:
            return replace(check, message=f"token on line {number}: {check.message}")
        if not check.ok:
            return check
    return check


def _check_one(
    draft: IntegrationDraft, token: str, transport: httpx.BaseTransport | None
) -> ConnectionCheck:
    options: dict[str, Any] = {"transport": transport} if transport is not None else {}
    url = draft.base_url.strip().rstrip("/")
    client: JiraClient | GitHubClient | AzureDevOpsClient | AhaClient
    if draft.type == "aha":
        client = AhaClient.connect(url, Secret(token), **options)
    elif draft.type == "github":
        enterprise = bool(draft.config.get("enterprise")) or None
        client = GitHubClient.create(split_tokens(token), url, enterprise=enterprise, **options)
    elif draft.type == "azure_devops":
        client = AzureDevOpsClient.create(url, Secret(token), **options)
    elif draft.type != "jira":
        return ConnectionCheck(
            ok=False,
            title="Not available yet",
            message=f"Testing {draft.type} connections is not supported by this version.",
        )
    elif draft.email and draft.config.get("deployment") != "data_center":
        client = JiraClient.cloud(url, draft.email.strip(), Secret(token), **options)
    else:
        client = JiraClient.data_center(url, Secret(token), **options)
    with client:
        return client.test_connection()


def stored_token(database: Database, client: str, name: str, secrets: SecretStore) -> str | None:
    try:
        client_id, ref = find_integration(database, client, name)
    except IntegrationNotFound:
        return None
    return secrets.get(secret_name(client_id, ref.id))


def record_test(
    database: Database, integration_id: int, check: ConnectionCheck, at: datetime | None = None
) -> None:
    with database.session() as session:
        record_connection_test(
            session,
            integration_id,
            ok=check.ok,
            message=check.message[:500],
            at=at or datetime.now(UTC),
        )


def check_saved(
    database: Database,
    client: str,
    integration_id: int,
    secrets: SecretStore,
    *,
    transport: httpx.BaseTransport | None = None,
) -> ConnectionCheck:
    """Test a stored integration with its stored token and remember the outcome."""
    with database.session() as session:
        row = _owned(session, client, integration_id)
        if row is None:
            return ConnectionCheck(ok=False, message="This integration no longer exists.")
        config = dict(row.config or {})
        draft = IntegrationDraft(
            row.name, row.type, row.base_url, config.get("email", ""), None, row.id, config
        )
        ref = row.secret_ref
    token = secrets.get(ref) if ref else None
    if token is None:
        check = ConnectionCheck(
            ok=False,
            title="No token",
            message="No token is stored for this integration: edit it and enter one.",
        )
    else:
        check = check_connection(draft, token, transport=transport)
    record_test(database, integration_id, check)
    return check


def set_active(
    database: Database, client: str, integration_id: int, active: bool, *, actor: str
) -> None:
    with database.session() as session:
        row = _owned(session, client, integration_id)
        if row is None:
            return
        row.active = active
        audit.note(session, actor, "integration.activate" if active else "integration.deactivate")
