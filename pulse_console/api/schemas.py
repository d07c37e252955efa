"""The JSON shapes of the API's answers (pydantic models: the OpenAPI schema's source).

Field names follow the CLI's JSON (`jobs list --json`, `orchestrator status --json`) so a
script can move from one to the other.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel


class Progress(BaseModel):
    """The running job's latest progress event (None when nothing was reported yet)."""

    run_id: int
    phase: str
    done: int
    total: int | None
    api_calls: int
    message: str
    at: datetime
    budget_remaining: int | None = None
    budget_limit: int | None = None
    budget_reset_at: datetime | None = None


class Job(BaseModel):
    name: str
    status: str
    reason: str | None
    retry_count: int
    last_run_at: datetime | None
    next_run_at: datetime | None
    parked_until: datetime | None
    cancel_requested: bool
    progress: Progress | None = None


class ControlAnswer(BaseModel):
    """A control that was done (a refusal or failure is a problem+json answer instead)."""

    ok: bool
    message: str
    mode: str


class Run(BaseModel):
    id: int
    job: str
    trigger: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    records: int
    api_calls: int
    error: str | None = None


class RunDetail(Run):
    checkpoint_before: dict[str, Any] | None = None
    checkpoint_after: dict[str, Any] | None = None
    stats: dict[str, Any] = {}


class Orchestrator(BaseModel):
    client: str
    mode: str
    leader: str | None
    state: str
    paused: bool
    settings: dict[str, Any]


class SettingValue(BaseModel):
    value: Any


class LogEntry(BaseModel):
    id: int
    ts: datetime
    level: str
    job: str | None
    run_id: int | None
    logger: str
    message: str
    extra: dict[str, Any] = {}


class LogPage(BaseModel):
    """Records oldest first; pass `older`/`newer` back as `before`/`after` to page on."""

    records: list[LogEntry]
    more_before: bool
    more_after: bool
    older: str | None
    newer: str | None
    note: str = ""


class LogFile(BaseModel):
    name: str
    size: int
    modified: datetime


class Deleted(BaseModel):
    deleted: list[str]


class Cleared(BaseModel):
    cleared: list[str]


class Integration(BaseModel):
    id: int
    name: str
    type: str
    base_url: str
    active: bool
    has_token: bool
    last_test_at: datetime | None
    last_test_ok: bool | None
    last_test_message: str | None
    last_sync_at: datetime | None
    repositories: int


class ConnectionTest(BaseModel):
    ok: bool
    title: str
    message: str


class Check(BaseModel):
    component: str
    state: str
    detail: str


class Health(BaseModel):
    client: str
    checks: list[Check]


class Probe(BaseModel):
    status: str
