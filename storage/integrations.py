"""Integrations: create or update one by (client, name); where its token is kept."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from storage.models import Integration
from storage.secrets import integration_secret


def secret_name(client_id: int, integration_id: int) -> str:
    """Where an integration's token lives in the secret store (keyed by ids, never names)."""
    return integration_secret(client_id, integration_id)


@dataclass(frozen=True)
class IntegrationRow:
    id: int
    client_id: int
    name: str
    type: str
    base_url: str
    config: dict[str, Any]
    active: bool
    secret_ref: str | None


def save_integration(
    session: Session,
    *,
    client_id: int,
    name: str,
    type: str,
    base_url: str,
    config: dict[str, Any] | None = None,
) -> int:
    """Insert or update integration `name` of the client; returns its id."""
    values = {
        "client_id": client_id,
        "name": name,
        "type": type,
        "base_url": base_url.rstrip("/"),
        "config": config or {},
        "active": True,
    }
    stmt = insert(Integration).values(**values)
    upsert = stmt.on_conflict_do_update(
        index_elements=[Integration.client_id, Integration.name],
        set_={
            "type": stmt.excluded.type,
            "base_url": stmt.excluded.base_url,
            "config": stmt.excluded.config,
            "active": True,
            "updated_at": func.now(),
        },
    ).returning(Integration.id)
    integration_id = int(session.execute(upsert).scalar_one())
    session.execute(
        update(Integration)
        .where(Integration.id == integration_id)
        .values(secret_ref=secret_name(client_id, integration_id))
    )
    return integration_id


def list_integrations(session: Session, client_id: int) -> list[IntegrationRow]:
    rows = session.execute(
        select(Integration).where(Integration.client_id == client_id).order_by(Integration.name)
    ).scalars()
    return [
        IntegrationRow(
            id=r.id,
            client_id=r.client_id,
            name=r.name,
            type=r.type,
            base_url=r.base_url,
            config=dict(r.config or {}),
            active=r.active,
            secret_ref=r.secret_ref,
        )
        for r in rows
    ]


def record_connection_test(
    session: Session, integration_id: int, *, ok: bool, message: str, at: datetime
) -> None:
    """Remember the outcome of the last "test connection" (shown in the console)."""
    session.execute(
        update(Integration)
        .where(Integration.id == integration_id)
        .values(last_test_at=at, last_test_ok=ok, last_test_message=message)
    )
