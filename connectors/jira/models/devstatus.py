"""Dev-status panel payloads (undocumented internal API used by Jira's development panel).

Shapes from real captures (DevLake ``_raw_jira_api_development_panels.csv``, GitLab
repositories with commits) and, for pull requests and branches, from public client code;
see API_NOTES §1.6. Everything beyond identifiers is optional for that reason.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from connectors.jira.models.base import JiraModel
from connectors.jira.timestamps import JiraDateTime


class DevInstance(JiraModel):
    """The linked tool (GitHub, GitLab, Bitbucket …) that reported the data."""

    name: str | None = None
    type: str | None = None
    type_name: str | None = None
    id: str | None = None
    base_url: str | None = None
    single_instance: bool | None = None


class DevPerson(JiraModel):
    name: str | None = None
    avatar: str | None = None
    approved: bool | None = None


class DevBranchRef(JiraModel):
    """A pull request's source or destination."""

    branch: str | None = None
    url: str | None = None


class DevRepositoryRef(JiraModel):
    id: str | None = None
    name: str | None = None
    url: str | None = None


class DevPullRequest(JiraModel):
    id: str | None = None
    name: str | None = None
    url: str
    status: str | None = None
    last_update: JiraDateTime | None = None
    comment_count: int | None = None
    author: DevPerson | None = None
    source: DevBranchRef | None = None
    destination: DevBranchRef | None = None
    reviewers: list[DevPerson] = Field(default_factory=list)
    repository_id: str | None = None
    repository_name: str | None = None
    repository_url: str | None = None

    @property
    def title(self) -> str | None:
        return self.name


class DevBranch(JiraModel):
    name: str
    url: str | None = None
    create_pull_request_url: str | None = None
    repository: DevRepositoryRef | None = None
    last_commit: dict[str, Any] | None = None


class DevFile(JiraModel):
    path: str | None = None
    url: str | None = None
    change_type: str | None = None
    lines_added: int | None = None
    lines_removed: int | None = None


class DevCommit(JiraModel):
    id: str
    display_id: str | None = None
    author_timestamp: JiraDateTime | None = None
    url: str | None = None
    author: DevPerson | None = None
    file_count: int | None = None
    merge: bool | None = None
    message: str | None = None
    files: list[DevFile] = Field(default_factory=list)


class DevRepository(JiraModel):
    name: str | None = None
    url: str | None = None
    avatar: str | None = None
    commits: list[DevCommit] = Field(default_factory=list)


class DevDetail(JiraModel):
    """One instance's block in ``detail[]``; which lists are filled depends on dataType."""

    repositories: list[DevRepository] = Field(default_factory=list)
    pull_requests: list[DevPullRequest] = Field(default_factory=list)
    branches: list[DevBranch] = Field(default_factory=list)
    instance: DevInstance | None = Field(default=None, alias="_instance")


class DevStatusDetail(JiraModel):
    errors: list[Any] = Field(default_factory=list)
    detail: list[DevDetail] = Field(default_factory=list)

    @property
    def pull_requests(self) -> list[DevPullRequest]:
        return [pr for d in self.detail for pr in d.pull_requests]

    @property
    def branches(self) -> list[DevBranch]:
        return [b for d in self.detail for b in d.branches]

    @property
    def repositories(self) -> list[DevRepository]:
        return [r for d in self.detail for r in d.repositories]


class DevSummaryOverall(JiraModel):
    count: int = 0
    last_updated: str | None = None
    state: str | None = None
    state_count: int | None = None
    open: bool | None = None
    details: dict[str, Any] = Field(default_factory=dict)


class DevSummaryInstance(JiraModel):
    count: int = 0
    name: str | None = None


class DevSummaryEntry(JiraModel):
    overall: DevSummaryOverall | None = None
    by_instance_type: dict[str, DevSummaryInstance] = Field(default_factory=dict)


class DevStatusSummary(JiraModel):
    errors: list[Any] = Field(default_factory=list)
    config_errors: list[Any] = Field(default_factory=list)
    summary: dict[str, DevSummaryEntry] = Field(default_factory=dict)

    def count(self, data_type: str) -> int:
        """How many items of ``data_type`` (pullrequest, branch, repository …) exist."""
        entry = self.summary.get(data_type)
        return entry.overall.count if entry and entry.overall else 0

    def application_types(self, data_type: str) -> list[str]:
        """Instance types to pass as ``applicationType`` to the detail endpoint."""
        entry = self.summary.get(data_type)
        return sorted(entry.by_instance_type) if entry else []
