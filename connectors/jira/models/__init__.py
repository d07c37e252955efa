"""Pydantic models of the Jira payloads the client reads."""

from connectors.jira.models.changelog import (
    ChangeHistory,
    ChangeItem,
    EmbeddedChangelog,
    IssueChangelogs,
)
from connectors.jira.models.devstatus import (
    DevBranch,
    DevCommit,
    DevDetail,
    DevInstance,
    DevPullRequest,
    DevRepository,
    DevStatusDetail,
    DevStatusSummary,
)
from connectors.jira.models.issues import Issue, IssueFields
from connectors.jira.models.metadata import (
    FieldInfo,
    IssueType,
    NamedRef,
    Project,
    ProjectRef,
    ServerInfo,
    Status,
    StatusCategory,
    custom_field_names,
)
from connectors.jira.models.users import User

__all__ = [
    "ChangeHistory",
    "ChangeItem",
    "DevBranch",
    "DevCommit",
    "DevDetail",
    "DevInstance",
    "DevPullRequest",
    "DevRepository",
    "DevStatusDetail",
    "DevStatusSummary",
    "EmbeddedChangelog",
    "FieldInfo",
    "Issue",
    "IssueChangelogs",
    "IssueFields",
    "IssueType",
    "NamedRef",
    "Project",
    "ProjectRef",
    "ServerInfo",
    "Status",
    "StatusCategory",
    "User",
    "custom_field_names",
]
