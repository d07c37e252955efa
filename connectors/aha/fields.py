"""What each list call asks for with ``fields=``, so one page carries whole records.

Aha! list endpoints return slim items (id, reference_num, name, created_at, url, resource)
unless ``fields=`` names more; any field of the detail record may be named
(https://www.aha.io/api, "Field selection"; API_NOTES §4). Asking for the stored fields
turns a 4,200-feature product into 21 calls of 200 instead of 4,200 detail calls.
"""

from __future__ import annotations

from collections.abc import Sequence

_COMMON = (
    "id",
    "reference_num",
    "name",
    "created_at",
    "updated_at",
    "workflow_status",
    "workflow_status_times",
    "assigned_to_user",
    "created_by_user",
    "custom_fields",
    "integration_fields",
    "tags",
    "url",
)

FEATURE_FIELDS: tuple[str, ...] = (
    *_COMMON,
    "product_id",
    "release",
    "epic",
    "initiative",
    "goals",
    "requirements",
    "start_date",
    "due_date",
    "progress",
)
EPIC_FIELDS: tuple[str, ...] = (
    *_COMMON,
    "product_id",
    "release",
    "initiative",
    "goals",
    "progress",
)
IDEA_FIELDS: tuple[str, ...] = (
    *_COMMON,
    "product_id",
    "votes",
    "endorsements_count",
    "feature",
)
RELEASE_FIELDS: tuple[str, ...] = (
    "id",
    "reference_num",
    "name",
    "product_id",
    "start_date",
    "release_date",
    "released_on",
    "released",
    "parking_lot",
    "workflow_status",
    "created_at",
    "updated_at",
    "goals",
)
GOAL_FIELDS: tuple[str, ...] = (
    "id",
    "reference_num",
    "name",
    "status",
    "workflow_status",
    "progress",
    "start_date",
    "end_date",
    "created_at",
    "updated_at",
)
INITIATIVE_FIELDS: tuple[str, ...] = (*GOAL_FIELDS, "goals")


def fields_param(fields: Sequence[str]) -> str:
    return ",".join(fields)
