"""Settings that operators change at run time, stored in `settings` and audited: the one
source of truth the engine reads and the console's Settings screen and the CLI
(`orchestrator set KEY VALUE`) both write.

Effective value of a key, strongest first: the client's row in `settings`, the global row
(client_id NULL), then the process configuration (config.toml / PULSE_* environment). Every
change writes the new value, and the database's trigger its `audit_log` row, in one
transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from pulse_console.config import Settings
from storage import audit_context
from storage.models import Setting

# key → (type, lower bound, upper bound) — the same limits as pulse_console.config
_INT_LIMITS = {
    "orchestrator.interval_minutes": (1, 7 * 24 * 60),
    "retry.interval_minutes": (1, 24 * 60),
    "retry.max_attempts": (0, 100),
    "logging.retention_days": (1, 3650),
}
_BOOLS = {"orchestrator.paused", "retry.enabled"}
THEMES = ("textual-dark", "textual-light", "textual-ansi", "nord", "gruvbox")
_CHOICES = {"console.theme": THEMES}
KEYS = tuple(sorted({*_INT_LIMITS, *_BOOLS, *_CHOICES}))


class SettingError(ValueError):
    """An unknown key or a value out of range; `str()` is the operator-facing reason."""


@dataclass(frozen=True)
class Policy:
    """The scheduling knobs the pure policy functions read."""

    interval: timedelta
    retry_enabled: bool
    retry_interval: timedelta
    max_attempts: int
    paused: bool
    log_retention_days: int = 30

    @classmethod
    def from_values(cls, values: dict[str, Any]) -> Policy:
        return cls(
            interval=timedelta(minutes=int(values["orchestrator.interval_minutes"])),
            retry_enabled=bool(values["retry.enabled"]),
            retry_interval=timedelta(minutes=int(values["retry.interval_minutes"])),
            max_attempts=int(values["retry.max_attempts"]),
            paused=bool(values["orchestrator.paused"]),
            log_retention_days=int(values["logging.retention_days"]),
        )


def defaults(settings: Settings) -> dict[str, Any]:
    return {
        "orchestrator.interval_minutes": settings.orchestrator.interval_minutes,
        "orchestrator.paused": not settings.orchestrator.enabled,
        "retry.enabled": settings.retry.enabled,
        "retry.interval_minutes": settings.retry.interval_minutes,
        "retry.max_attempts": settings.retry.max_attempts,
        "logging.retention_days": settings.logging.retention_days,
        "console.theme": THEMES[0],
    }


def validate(key: str, value: Any) -> Any:
    if key in _BOOLS:
        try:
            return TypeAdapter(bool).validate_python(value)
        except ValidationError:
            raise SettingError(f"{key}: expected true or false, got {value!r}") from None
    if key in _CHOICES:
        if value not in _CHOICES[key]:
            raise SettingError(f"{key}: one of {', '.join(_CHOICES[key])}, got {value!r}")
        return value
    if key in _INT_LIMITS:
        low, high = _INT_LIMITS[key]
        try:
            number = TypeAdapter(int).validate_python(value)
        except ValidationError:
            raise SettingError(f"{key}: expected a whole number, got {value!r}") from None
        if not low <= number <= high:
            raise SettingError(f"{key}: {number} is out of range ({low} to {high})")
        return number
    raise SettingError(f"unknown setting {key!r}; known: {', '.join(KEYS)}")


def effective(session: Session, client_id: int, settings: Settings) -> dict[str, Any]:
    return {**defaults(settings), **stored(session, client_id)}


def stored(session: Session, client_id: int | None) -> dict[str, Any]:
    """The values saved in `settings` for a client (its own over the global ones)."""
    values: dict[str, Any] = {}
    rows = session.execute(
        select(Setting.client_id, Setting.key, Setting.value)
        .where(Setting.key.in_(KEYS))
        .where((Setting.client_id == client_id) | Setting.client_id.is_(None))
        .order_by(Setting.client_id.is_not(None))  # global first, the client's overrides it
    ).all()
    for _client, key, value in rows:
        values[key] = value
    return values


def load_policy(session: Session, client_id: int, settings: Settings) -> Policy:
    return Policy.from_values(effective(session, client_id, settings))


def set_setting(
    session: Session, client_id: int | None, key: str, value: Any, *, actor: str
) -> Any:
    """Store `key = value` (validated) for a client (or globally with None) and audit it."""
    clean = validate(key, value)
    old = session.execute(
        select(Setting.value).where(
            func.coalesce(Setting.client_id, 0) == (client_id or 0), Setting.key == key
        )
    ).scalar()
    store(session, client_id, key, clean, actor=actor)
    # The settings trigger records the change at commit (migration 0018): tag it.
    audit_context.note(
        session.connection(),
        operation="setting.set",
        actor=actor,
        details={"old": old, "new": clean},
    )
    return clean


def store(session: Session, client_id: int | None, key: str, clean: Any, *, actor: str) -> None:
    """Write an already validated value (the caller audits the change)."""
    stmt = insert(Setting).values(client_id=client_id, key=key, value=clean, updated_by=actor)
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=[func.coalesce(Setting.client_id, 0), Setting.key],
            set_={"value": stmt.excluded.value, "updated_by": actor, "updated_at": func.now()},
        )
    )
