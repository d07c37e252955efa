"""Pydantic models of Aha! API v1 payloads (https://www.aha.io/api, resources section).

Shapes follow the resource pages of https://www.aha.io/api/resources (features, epics,
requirements, ideas, releases, goals, initiatives, products) and their example responses.
Every model ignores fields it does not name (``extra="ignore"``) so a new field never breaks
a sync, and keeps nothing it was not asked for: the client asks list endpoints for exactly
these fields with ``fields=`` (see ``connectors.aha.fields``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class AhaModel(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class Pagination(AhaModel):
    """The ``pagination`` envelope of every list response (API_NOTES §4)."""

    total_records: int
    total_pages: int
    current_page: int


class UserRef(AhaModel):
    id: str
    name: str | None = None
    email: str | None = None


class ProjectRef(AhaModel):
    """A product (workspace) as embedded in records: ``project`` / ``product``."""

    id: str
    reference_prefix: str | None = None
    name: str | None = None


class WorkflowStatus(AhaModel):
    id: str
    name: str
    position: int | None = None
    complete: bool | None = None


class StatusTime(AhaModel):
    """One stay in a workflow status (``workflow_status_times``).

    UNVERIFIED: the field appears in the OpenAPI description Aha! generates from its test
    responses (aha.io/redoc-static.html, mirrored by github.com/cedricziel/aha-spec) but not
    on the v1 resource pages; without it the pipeline sees no status history (see the
    pipeline's transform module).
    """

    status_id: str | None = None
    status_name: str
    started_at: datetime
    ended_at: datetime | None = None


class IntegrationField(AhaModel):
    """A value an integration stored on the record, e.g. ``{"name": "key", "value": "PAY-12",
    "service_name": "jira"}``. Names per service are UNVERIFIED beyond ``key``/``url``."""

    id: str | None = None
    name: str
    value: str | None = None
    service_name: str | None = None
    integration_id: int | str | None = None


class CustomField(AhaModel):
    key: str | None = None
    name: str
    value: Any = None
    type: str | None = None


class RecordRef(AhaModel):
    """A related record in brief: ``{"id", "reference_num", "name"}``."""

    id: str
    reference_num: str | None = None
    name: str | None = None


class Product(AhaModel):
    """GET /api/v1/products — https://www.aha.io/api/resources/products/list_products"""

    id: str
    reference_prefix: str
    name: str
    product_line: bool | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


class _Record(AhaModel):
    """What features, epics, requirements and ideas share."""

    id: str
    reference_num: str
    name: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    workflow_status: WorkflowStatus | None = None
    workflow_status_times: list[StatusTime] | None = None
    assigned_to_user: UserRef | None = None
    created_by_user: UserRef | None = None
    custom_fields: list[CustomField] = Field(default_factory=list)
    integration_fields: list[IntegrationField] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    url: str | None = None


class Requirement(_Record):
    """A feature's requirement, as embedded in the feature (``requirements``).

    https://www.aha.io/api/resources/requirements — embedded copies carry the same fields
    as GET /requirements/{id} (UNVERIFIED for list responses with ``fields=requirements``).
    """


class Feature(_Record):
    """GET /api/v1/products/{id}/features — https://www.aha.io/api/resources/features"""

    product_id: str | None = None
    release: RecordRef | None = None
    epic: RecordRef | None = None
    initiative: RecordRef | None = None
    goals: list[RecordRef] = Field(default_factory=list)
    requirements: list[Requirement] = Field(default_factory=list)
    start_date: date | None = None
    due_date: date | None = None
    progress: int | float | None = None


class Epic(_Record):
    """GET /api/v1/products/{id}/epics — https://www.aha.io/api/resources/epics"""

    product_id: str | None = None
    release: RecordRef | None = None
    initiative: RecordRef | None = None
    goals: list[RecordRef] = Field(default_factory=list)
    progress: int | float | None = None


class Idea(_Record):
    """GET /api/v1/products/{id}/ideas — https://www.aha.io/api/resources/ideas

    ``votes`` is the idea's vote (endorsement) count; ``feature`` the feature it was
    promoted to, if any.
    """

    product_id: str | None = None
    votes: int | None = None
    endorsements_count: int | None = None
    feature: RecordRef | None = None


class Release(AhaModel):
    """GET /api/v1/products/{id}/releases — https://www.aha.io/api/resources/releases

    ``released`` is the release's shipped flag (UNVERIFIED in list responses; the pipeline
    falls back to ``released_on`` and a complete workflow status).
    """

    id: str
    reference_num: str
    name: str
    product_id: str | None = None
    start_date: date | None = None
    release_date: date | None = None
    released_on: date | None = None
    released: bool | None = None
    parking_lot: bool | None = None
    workflow_status: WorkflowStatus | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    goals: list[RecordRef] = Field(default_factory=list)


class Goal(AhaModel):
    """GET /api/v1/products/{id}/goals — https://www.aha.io/api/resources/goals"""

    id: str
    reference_num: str
    name: str
    status: str | None = None
    workflow_status: WorkflowStatus | None = None
    progress: float | None = None
    start_date: date | None = None
    end_date: date | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


class Initiative(Goal):
    """GET /api/v1/products/{id}/initiatives — https://www.aha.io/api/resources/initiatives

    Same shape as a goal for what we store; ``goals`` are the goals it serves.
    """

    goals: list[RecordRef] = Field(default_factory=list)


class Me(AhaModel):
    """GET /api/v1/me — https://www.aha.io/api/resources/me"""

    id: str
    name: str | None = None
    email: str | None = None
