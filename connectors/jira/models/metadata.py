"""Projects, statuses, issue types, fields and server information."""

from __future__ import annotations

from pydantic import Field

from connectors.jira.models.base import JiraModel
from connectors.jira.timestamps import JiraDateTime


class StatusCategory(JiraModel):
    """``key`` is ``new`` | ``indeterminate`` | ``done`` (and ``undefined``)."""

    id: int
    key: str
    name: str | None = None
    color_name: str | None = None


class Status(JiraModel):
    """https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-workflow-statuses/"""

    id: str
    name: str
    untranslated_name: str | None = None
    description: str | None = None
    status_category: StatusCategory | None = None


class IssueType(JiraModel):
    """https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-types/"""

    id: str
    name: str
    untranslated_name: str | None = None
    description: str | None = None
    subtask: bool = False
    hierarchy_level: int | None = None


class ProjectRef(JiraModel):
    """A project as embedded in an issue's ``fields.project``."""

    id: str
    key: str
    name: str | None = None


class Project(ProjectRef):
    """https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-projects/#api-rest-api-3-project-search-get"""

    name: str
    project_type_key: str | None = None
    style: str | None = None
    simplified: bool | None = None
    is_private: bool | None = None


class FieldSchema(JiraModel):
    type: str | None = None
    system: str | None = None
    custom: str | None = None
    custom_id: int | None = None
    items: str | None = None


class FieldInfo(JiraModel):
    """https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-fields/#api-rest-api-3-field-get"""

    id: str
    name: str
    key: str | None = None
    custom: bool = False
    clause_names: list[str] = Field(default_factory=list)
    field_schema: FieldSchema | None = Field(default=None, alias="schema")

    @property
    def is_custom(self) -> bool:
        """``field/search`` omits ``custom``; the ``customfield_`` id prefix is reliable."""
        return self.custom or self.id.startswith("customfield_")


class ServerInfo(JiraModel):
    """https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-server-info/

    Cloud always reports ``deploymentType: "Cloud"``; self-managed Jira reports ``Server`` or
    ``DataCenter`` (or omits it on old versions).
    """

    base_url: str | None = None
    version: str | None = None
    version_numbers: list[int] = Field(default_factory=list)
    deployment_type: str | None = None
    build_number: int | None = None
    server_title: str | None = None
    server_time: JiraDateTime | None = None
    server_time_zone: str | None = None

    @property
    def is_cloud(self) -> bool:
        return (self.deployment_type or "").lower() == "cloud"


class NamedRef(JiraModel):
    """Small ``{id, name}`` objects: priority, resolution."""

    id: str | None = None
    name: str | None = None


def custom_field_names(fields: list[FieldInfo]) -> dict[str, str]:
    """``customfield_NNNNN`` → display name, for naming custom fields in jsonb."""
    return {f.id: f.name for f in fields if f.is_custom}


__all__ = [
    "FieldInfo",
    "FieldSchema",
    "IssueType",
    "NamedRef",
    "Project",
    "ProjectRef",
    "ServerInfo",
    "Status",
    "StatusCategory",
    "custom_field_names",
]
