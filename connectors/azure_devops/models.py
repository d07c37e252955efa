"""Typed models of the Azure DevOps REST 7.1 payloads we read.

Shapes follow the 7.1 specifications (github.com/MicrosoftDocs/vsts-rest-api-specs,
``specification/{wit,git,build,release,distributedTask}/7.1``) and the recorded examples in
``fixtures/api_examples/azure_devops`` and DevLake's ``azuredevops_go`` raw tables. Unknown
keys are kept (``extra="allow"``) and most fields are optional: the service omits empty ones.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field


def parse_ado_datetime(value: Any) -> datetime:
    """An Azure DevOps timestamp (``2016-11-01T16:30:31.6655471Z``: up to 7 fractional
    digits, always UTC ``Z`` or an offset) as an aware UTC datetime."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime: Azure DevOps timestamps carry a zone")
        return value.astimezone(UTC)
    if not isinstance(value, str):
        raise ValueError(f"not a timestamp: {type(value).__name__}")
    parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError(f"timestamp without an offset: {value!r}")
    return parsed.astimezone(UTC)


def format_ado_datetime(moment: datetime) -> str:
    """ISO-8601 UTC with milliseconds, as the service writes and WIQL accepts it."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{moment.microsecond // 1000:03d}Z"
    )


AdoDateTime = Annotated[datetime, BeforeValidator(parse_ado_datetime)]


class AdoModel(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True, frozen=True)


class IdentityRef(AdoModel):
    """IdentityRef (webapi): who did something."""

    id: str | None = None
    display_name: str | None = Field(default=None, alias="displayName")
    unique_name: str | None = Field(default=None, alias="uniqueName")

    @property
    def name(self) -> str | None:
        return self.display_name or self.unique_name


class TeamProject(AdoModel):
    """TeamProjectReference — GET _apis/projects (core 7.1)."""

    id: str
    name: str
    state: str | None = None
    last_update_time: AdoDateTime | None = Field(default=None, alias="lastUpdateTime")


# -- work item tracking ------------------------------------------------------------------------


class WorkItemStateColor(AdoModel):
    """WorkItemStateColor: a state of a type with its category (Proposed, InProgress,
    Resolved, Completed, Removed)."""

    name: str
    category: str | None = None
    color: str | None = None


class WorkItemType(AdoModel):
    """WorkItemType — GET {project}/_apis/wit/workitemtypes (7.1 includes ``states``)."""

    name: str
    reference_name: str | None = Field(default=None, alias="referenceName")
    is_disabled: bool | None = Field(default=None, alias="isDisabled")
    states: list[WorkItemStateColor] = Field(default_factory=list)


class WorkItemField(AdoModel):
    """WorkItemField2 — GET _apis/wit/fields: a field's display name by reference name."""

    name: str
    reference_name: str = Field(alias="referenceName")
    type: str | None = None
    usage: str | None = None


class WorkItemReference(AdoModel):
    id: int
    url: str | None = None


class WiqlResult(AdoModel):
    """WorkItemQueryResult of a flat query: ids only, no paging."""

    query_type: str | None = Field(default=None, alias="queryType")
    as_of: AdoDateTime | None = Field(default=None, alias="asOf")
    work_items: list[WorkItemReference] = Field(default_factory=list, alias="workItems")


class WorkItemRelation(AdoModel):
    """A relation; ``ArtifactLink`` ones point at ``vstfs:///Git/PullRequestId/…``."""

    rel: str
    url: str
    attributes: dict[str, Any] = Field(default_factory=dict)


class WorkItem(AdoModel):
    """WorkItem — POST {project}/_apis/wit/workitemsbatch; ``fields`` by reference name."""

    id: int
    rev: int | None = None
    fields: dict[str, Any] = Field(default_factory=dict)
    relations: list[WorkItemRelation] | None = None
    url: str | None = None

    def field(self, name: str) -> Any:
        return self.fields.get(name)


class WorkItemRevision(AdoModel):
    """One revision from the reporting revisions API: a snapshot of the fields asked for."""

    id: int
    rev: int
    fields: dict[str, Any] = Field(default_factory=dict)


class DeletedWorkItemRef(AdoModel):
    """WorkItemDeleteShallowReference — GET {project}/_apis/wit/recyclebin."""

    id: int
    url: str | None = None


# -- git ---------------------------------------------------------------------------------------


class ProjectRef(AdoModel):
    id: str | None = None
    name: str | None = None


class GitRepository(AdoModel):
    """GitRepository — GET {project}/_apis/git/repositories."""

    id: str
    name: str
    url: str | None = None
    web_url: str | None = Field(default=None, alias="webUrl")
    default_branch: str | None = Field(default=None, alias="defaultBranch")
    is_disabled: bool | None = Field(default=None, alias="isDisabled")
    project: ProjectRef | None = None


class CommitRef(AdoModel):
    commit_id: str = Field(alias="commitId")


class Reviewer(AdoModel):
    """IdentityRefWithVote: vote 10 approved, 5 approved with suggestions, 0 none,
    -5 waiting for author, -10 rejected."""

    id: str | None = None
    display_name: str | None = Field(default=None, alias="displayName")
    unique_name: str | None = Field(default=None, alias="uniqueName")
    vote: int = 0
    is_required: bool | None = Field(default=None, alias="isRequired")


class PullRequest(AdoModel):
    """GitPullRequest (list shape). ``status``: active | completed | abandoned."""

    pull_request_id: int = Field(alias="pullRequestId")
    status: str
    title: str | None = None
    created_by: IdentityRef | None = Field(default=None, alias="createdBy")
    creation_date: AdoDateTime = Field(alias="creationDate")
    closed_date: AdoDateTime | None = Field(default=None, alias="closedDate")
    source_ref_name: str | None = Field(default=None, alias="sourceRefName")
    target_ref_name: str | None = Field(default=None, alias="targetRefName")
    is_draft: bool | None = Field(default=None, alias="isDraft")
    last_merge_commit: CommitRef | None = Field(default=None, alias="lastMergeCommit")
    reviewers: list[Reviewer] = Field(default_factory=list)
    url: str | None = None
    repository: GitRepository | None = None


class Comment(AdoModel):
    """Comment of a thread; ``commentType``: text | system | codeChange | unknown."""

    id: int
    author: IdentityRef | None = None
    content: str | None = None
    comment_type: str | None = Field(default=None, alias="commentType")
    published_date: AdoDateTime | None = Field(default=None, alias="publishedDate")
    is_deleted: bool | None = Field(default=None, alias="isDeleted")


class Thread(AdoModel):
    """GitPullRequestCommentThread — GET …/pullRequests/{id}/threads."""

    id: int
    published_date: AdoDateTime | None = Field(default=None, alias="publishedDate")
    comments: list[Comment] = Field(default_factory=list)
    properties: dict[str, Any] | None = None
    is_deleted: bool | None = Field(default=None, alias="isDeleted")

    def property_value(self, name: str) -> Any:
        """A thread property's ``$value`` (properties are ``{"$type":…, "$value":…}``)."""
        prop = (self.properties or {}).get(name)
        return prop.get("$value") if isinstance(prop, dict) else prop


class GitUserDate(AdoModel):
    name: str | None = None
    email: str | None = None
    date: AdoDateTime | None = None


class GitCommit(AdoModel):
    """GitCommitRef — GET …/pullRequests/{id}/commits."""

    commit_id: str = Field(alias="commitId")
    author: GitUserDate | None = None
    committer: GitUserDate | None = None
    comment: str | None = None


# -- build, release, environments ----------------------------------------------------------


class DefinitionRef(AdoModel):
    id: int | None = None
    name: str | None = None


class BuildRepository(AdoModel):
    id: str | None = None
    type: str | None = None
    name: str | None = None


class Build(AdoModel):
    """Build — GET {project}/_apis/build/builds. ``status`` notStarted | inProgress |
    completed | cancelling | postponed; ``result`` succeeded | partiallySucceeded | failed |
    canceled | none."""

    id: int
    build_number: str | None = Field(default=None, alias="buildNumber")
    status: str | None = None
    result: str | None = None
    queue_time: AdoDateTime | None = Field(default=None, alias="queueTime")
    start_time: AdoDateTime | None = Field(default=None, alias="startTime")
    finish_time: AdoDateTime | None = Field(default=None, alias="finishTime")
    source_branch: str | None = Field(default=None, alias="sourceBranch")
    source_version: str | None = Field(default=None, alias="sourceVersion")
    definition: DefinitionRef | None = None
    repository: BuildRepository | None = None
    reason: str | None = None
    url: str | None = None

    @property
    def finished(self) -> bool:
        return self.status == "completed"


class ArtifactVersion(AdoModel):
    id: str | None = None
    name: str | None = None


class ArtifactSourceReference(AdoModel):
    """One ``definitionReference`` entry: ``{"id": …, "name": …}``."""

    id: str | None = None
    name: str | None = None


class Artifact(AdoModel):
    """A release's artifact; for a ``Build`` artifact ``definitionReference`` holds the
    build (``version``), the repository and the commit (``sourceVersion``) — key names
    UNVERIFIED against a live service (the 7.1 spec types them as a free map)."""

    type: str | None = None
    alias: str | None = None
    is_primary: bool | None = Field(default=None, alias="isPrimary")
    definition_reference: dict[str, ArtifactSourceReference] = Field(
        default_factory=dict, alias="definitionReference"
    )

    def ref_id(self, key: str) -> str | None:
        ref = self.definition_reference.get(key)
        return ref.id if ref else None


class ReleaseRef(AdoModel):
    id: int
    name: str | None = None
    artifacts: list[Artifact] = Field(default_factory=list)


class ReleaseDeployment(AdoModel):
    """Deployment — GET vsrm {project}/_apis/release/deployments. ``deploymentStatus``:
    notDeployed | inProgress | succeeded | partiallySucceeded | failed."""

    id: int
    release: ReleaseRef | None = None
    release_definition: DefinitionRef | None = Field(default=None, alias="releaseDefinition")
    release_environment: DefinitionRef | None = Field(default=None, alias="releaseEnvironment")
    deployment_status: str | None = Field(default=None, alias="deploymentStatus")
    operation_status: str | None = Field(default=None, alias="operationStatus")
    queued_on: AdoDateTime | None = Field(default=None, alias="queuedOn")
    started_on: AdoDateTime | None = Field(default=None, alias="startedOn")
    completed_on: AdoDateTime | None = Field(default=None, alias="completedOn")
    last_modified_on: AdoDateTime | None = Field(default=None, alias="lastModifiedOn")


class Environment(AdoModel):
    """EnvironmentInstance — GET {project}/_apis/distributedtask/environments."""

    id: int
    name: str


class OwnerRef(AdoModel):
    id: int | None = None
    name: str | None = None


class EnvironmentDeploymentRecord(AdoModel):
    """EnvironmentDeploymentExecutionRecord — GET …/environments/{id}/environmentdeploymentrecords.
    ``owner`` is the pipeline run (its id is the build id); ``result`` is absent while it
    runs (TaskResult: succeeded | succeededWithIssues | failed | canceled | skipped |
    abandoned)."""

    id: int
    environment_id: int | None = Field(default=None, alias="environmentId")
    stage_name: str | None = Field(default=None, alias="stageName")
    job_name: str | None = Field(default=None, alias="jobName")
    result: str | None = None
    definition: DefinitionRef | None = None
    owner: OwnerRef | None = None
    queue_time: AdoDateTime | None = Field(default=None, alias="queueTime")
    start_time: AdoDateTime | None = Field(default=None, alias="startTime")
    finish_time: AdoDateTime | None = Field(default=None, alias="finishTime")
