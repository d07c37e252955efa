"""Jira's "Development" field: the development summary that search results carry.

Jira Cloud sites with development tools connected have a custom field of type
``com.atlassian.jira.plugins.jira-development-integration-plugin:devsummarycf`` (usually
``customfield_10000``, named "Development"; found by that type in ``GET /rest/api/3/field``).
Its value is a string: ``"{}"`` for an issue with no development data, else
``"{summaryBean=<Java toString>, devSummaryJson={"cachedValue": {"errors": [],
"configErrors": [], "summary": {...}}, "isStale": false}}"``, where ``summary`` has the
shape of the dev-status summary endpoint (API_NOTES §1.6). Sources: recorded Cloud search
responses in public client tests (LastSprint/pkg_go_jira_service ``parsing_tests``, a
Bitbucket-linked issue) and ``"customfield_10000": "{}"`` in many recorded Cloud issue
payloads. Only ``devSummaryJson`` is read; the Java part is not a format.

A pipeline asks for this field in its searches and calls the (one request per issue)
dev-status detail endpoint only for issues whose summary shows pull requests, and again
only when the summary changed (`DevSummary.fingerprint`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from pydantic import ValidationError

from connectors.jira.models import DevStatusSummary, FieldInfo

DEV_SUMMARY_FIELD_TYPE = (
    "com.atlassian.jira.plugins.jira-development-integration-plugin:devsummarycf"
)
_JSON_MARKER = "devSummaryJson="


@dataclass(frozen=True)
class DevSummary:
    """What the Development field says about an issue's pull requests."""

    pull_requests: int
    fingerprint: str
    """Canonical JSON of the pull-request summary (count, state counts, last update): it
    changes whenever a linked pull request is added, removed or updated."""

    @property
    def has_pull_requests(self) -> bool:
        return self.pull_requests > 0


NO_DEVELOPMENT = DevSummary(pull_requests=0, fingerprint="{}")


def development_field_id(fields: Iterable[FieldInfo]) -> str | None:
    """The id of the site's Development field, or None (Data Center, no dev tools)."""
    for f in fields:
        if f.field_schema is not None and f.field_schema.custom == DEV_SUMMARY_FIELD_TYPE:
            return f.id
    return None


def parse_dev_summary(value: object) -> DevSummary | None:
    """The summary in a Development field value; None when absent or unreadable (the
    caller then asks the dev-status endpoint, as without the field)."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if text == "{}":
        return NO_DEVELOPMENT
    start = text.find(_JSON_MARKER)
    if start < 0:
        return None
    try:
        cached, _ = json.JSONDecoder().raw_decode(text, start + len(_JSON_MARKER))
        body = DevStatusSummary.model_validate(cached["cachedValue"])
    except (ValueError, KeyError, TypeError, ValidationError):
        return None
    entry = body.summary.get("pullrequest")
    if entry is None or entry.overall is None:
        return NO_DEVELOPMENT
    overall = entry.overall
    fingerprint = json.dumps(
        {
            "count": overall.count,
            "lastUpdated": overall.last_updated,
            "state": overall.state,
            "details": overall.details,
            "instances": sorted(entry.by_instance_type),
        },
        sort_keys=True,
        separators=(",", ":"),
    )
    return DevSummary(pull_requests=overall.count, fingerprint=fingerprint)
