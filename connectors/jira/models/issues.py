"""Issues as returned by the search endpoints."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from connectors.jira.models.base import JiraModel
from connectors.jira.models.changelog import EmbeddedChangelog
from connectors.jira.models.metadata import IssueType, NamedRef, ProjectRef, Status
from connectors.jira.models.users import User
from connectors.jira.timestamps import JiraDateTime


class IssueFields(JiraModel):
    """The fields we read by name; everything else (custom fields included) stays as extra.

    All optional: which fields are present depends on the ``fields`` the search asked for.
    """

    summary: str | None = None
    status: Status | None = None
    issuetype: IssueType | None = Field(default=None, alias="issuetype")
    project: ProjectRef | None = None
    priority: NamedRef | None = None
    resolution: NamedRef | None = None
    assignee: User | None = None
    reporter: User | None = None
    created: JiraDateTime | None = None
    updated: JiraDateTime | None = None
    resolutiondate: JiraDateTime | None = Field(default=None, alias="resolutiondate")
    labels: list[str] = Field(default_factory=list)

    def custom_fields(self) -> dict[str, Any]:
        """``customfield_*`` values by field id (name them with ``custom_field_names``)."""
        extra = self.model_extra or {}
        return {k: v for k, v in extra.items() if k.startswith("customfield_")}


class Issue(JiraModel):
    """https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-search/

    ``id`` is immutable; ``key`` changes when the issue moves to another project.
    """

    id: str
    key: str
    fields: IssueFields = Field(default_factory=IssueFields)
    changelog: EmbeddedChangelog | None = None
