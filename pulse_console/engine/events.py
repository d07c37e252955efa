"""Typed engine events, the in-process bus, and their JSON form for PostgreSQL NOTIFY.

Every event is a small frozen dataclass. In-process subscribers (the TUI wraps them into
Textual messages) get callbacks from `EventBus.publish`, on the publishing thread: a
subscriber must not block. Across processes the same events travel as NOTIFY payloads
(`encode`/`decode`); PostgreSQL refuses payloads of 8,000 bytes or more, so `encode` keeps
every payload under `MAX_PAYLOAD` bytes by truncating the free-text fields.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

MAX_PAYLOAD = 7900
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobStatusChanged:
    """A job moved from one status to another."""

    client: str
    job: str
    status: str
    previous: str | None
    reason: str | None
    run_id: int | None
    at: datetime


@dataclass(frozen=True)
class JobProgress:
    """A running job's latest progress; replaces the previous one."""

    client: str
    job: str
    run_id: int
    phase: str
    done: int
    total: int | None
    api_calls: int
    message: str
    at: datetime
    budget_remaining: int | None = None  # the source's API budget left (e.g. GraphQL points)
    budget_limit: int | None = None
    budget_reset_at: datetime | None = None


@dataclass(frozen=True)
class LogRecord:
    """One log line of a run."""

    client: str
    job: str | None
    run_id: int | None
    level: str
    logger: str
    message: str
    at: datetime


@dataclass(frozen=True)
class RateLimitWait:
    """A job is parked until a source's rate limit resets (not a hang, not a failure)."""

    client: str
    job: str
    run_id: int | None
    until: datetime | None
    source: str
    at: datetime


@dataclass(frozen=True)
class Health:
    """A heartbeat of the orchestrator that drives a client."""

    client: str
    worker: str
    leader: bool
    orchestrator_paused: bool
    running_job: str | None
    next_tick_at: datetime | None
    at: datetime


Event = JobStatusChanged | JobProgress | LogRecord | RateLimitWait | Health
EVENT_TYPES: dict[str, type[Any]] = {
    cls.__name__: cls for cls in (JobStatusChanged, JobProgress, LogRecord, RateLimitWait, Health)
}
Subscriber = Callable[[Event], None]
_TRUNCATABLE = ("message", "reason")


def encode(event: Event) -> str:
    """The event as JSON, always shorter than `MAX_PAYLOAD` bytes."""
    data: dict[str, Any] = {"type": type(event).__name__}
    for f in dataclasses.fields(event):
        value = getattr(event, f.name)
        data[f.name] = value.isoformat() if isinstance(value, datetime) else value
    text = json.dumps(data, separators=(",", ":"))
    if len(text.encode()) < MAX_PAYLOAD:
        return text
    overflow = len(text.encode()) - MAX_PAYLOAD + 64
    for name in _TRUNCATABLE:
        value = data.get(name)
        if isinstance(value, str) and value:
            keep = max(0, len(value.encode()) - overflow)
            data[name] = value.encode()[:keep].decode(errors="ignore") + "…[truncated]"
            text = json.dumps(data, separators=(",", ":"))
            if len(text.encode()) < MAX_PAYLOAD:
                return text
    raise ValueError(f"{type(event).__name__} does not fit in a NOTIFY payload")


def decode(payload: str) -> Event | None:
    """The event a payload carries, or None for an unknown or malformed one."""
    try:
        data = json.loads(payload)
        cls = EVENT_TYPES[data.pop("type")]
        kwargs: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            value = data.get(f.name)
            if isinstance(value, str) and "datetime" in str(f.type):
                value = datetime.fromisoformat(value)
            kwargs[f.name] = value
        event: Event = cls(**kwargs)
        return event
    except (ValueError, KeyError, TypeError):
        _log.warning("ignoring a malformed event payload: %.200s", payload)
        return None


@dataclass
class EventBus:
    """Fan-out of events to in-process subscribers; a failing subscriber is logged, not fatal."""

    _subscribers: list[Subscriber] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Register `callback`; call the returned function to unsubscribe."""
        with self._lock:
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe

    def publish(self, event: Event) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        for callback in subscribers:
            try:
                callback(event)
            except Exception:
                _log.exception("event subscriber failed on %s", type(event).__name__)
