"""GraphQL payloads: what our queries (``connectors/github/queries.py``) select.

Field names and types are GitHub's public schema (octokit/graphql-schema, see API_NOTES §2.1):
https://docs.github.com/graphql/reference/objects#pullrequest and friends. Only identifiers are
required; everything a query might not select is optional.
"""

from __future__ import annotations

from pydantic import Field

from connectors.github.models.base import GitHubDateTime, GitHubModel


class Actor(GitHubModel):
    """``Actor``: a user, bot (GraphQL drops REST's ``[bot]`` suffix) or organisation."""

    login: str | None = None


class PageInfo(GitHubModel):
    has_next_page: bool = Field(alias="hasNextPage")
    end_cursor: str | None = Field(default=None, alias="endCursor")


class RateLimit(GitHubModel):
    """``Query.rateLimit``: https://docs.github.com/graphql/overview/rate-limits-and-node-limits-for-the-graphql-api"""

    cost: int = 1
    remaining: int
    reset_at: GitHubDateTime = Field(alias="resetAt")
    limit: int | None = None
    used: int | None = None
    node_count: int | None = Field(default=None, alias="nodeCount")


class GitActor(GitHubModel):
    name: str | None = None
    email: str | None = None
    user: Actor | None = None


class Commit(GitHubModel):
    oid: str
    message: str | None = None
    authored_date: GitHubDateTime | None = Field(default=None, alias="authoredDate")
    committed_date: GitHubDateTime | None = Field(default=None, alias="committedDate")
    additions: int | None = None
    deletions: int | None = None
    author: GitActor | None = None

    @property
    def author_login(self) -> str | None:
        a = self.author
        if a is None:
            return None
        return (a.user.login if a.user else None) or a.name or a.email


class PullRequestCommit(GitHubModel):
    commit: Commit


class Review(GitHubModel):
    id: str
    state: str
    submitted_at: GitHubDateTime | None = Field(default=None, alias="submittedAt")
    author: Actor | None = None


class IssueComment(GitHubModel):
    id: str
    created_at: GitHubDateTime | None = Field(default=None, alias="createdAt")
    author: Actor | None = None


class ReviewComment(GitHubModel):
    id: str
    created_at: GitHubDateTime | None = Field(default=None, alias="createdAt")
    author: Actor | None = None


class CommitConnection(GitHubModel):
    total_count: int | None = Field(default=None, alias="totalCount")
    page_info: PageInfo = Field(alias="pageInfo")
    nodes: list[PullRequestCommit | None] = Field(default_factory=list)


class ReviewConnection(GitHubModel):
    total_count: int | None = Field(default=None, alias="totalCount")
    page_info: PageInfo = Field(alias="pageInfo")
    nodes: list[Review | None] = Field(default_factory=list)


class IssueCommentConnection(GitHubModel):
    total_count: int | None = Field(default=None, alias="totalCount")
    page_info: PageInfo = Field(alias="pageInfo")
    nodes: list[IssueComment | None] = Field(default_factory=list)


class ReviewCommentConnection(GitHubModel):
    total_count: int | None = Field(default=None, alias="totalCount")
    page_info: PageInfo = Field(alias="pageInfo")
    nodes: list[ReviewComment | None] = Field(default_factory=list)


class ReviewThread(GitHubModel):
    id: str
    comments: ReviewCommentConnection


class ReviewThreadConnection(GitHubModel):
    total_count: int | None = Field(default=None, alias="totalCount")
    page_info: PageInfo = Field(alias="pageInfo")
    nodes: list[ReviewThread | None] = Field(default_factory=list)


class MergeCommit(GitHubModel):
    oid: str


class PullRequest(GitHubModel):
    """``PullRequest`` with its nested connections (each possibly only a first page)."""

    id: str
    number: int
    title: str | None = None
    url: str
    state: str
    is_draft: bool | None = Field(default=None, alias="isDraft")
    created_at: GitHubDateTime | None = Field(default=None, alias="createdAt")
    updated_at: GitHubDateTime = Field(alias="updatedAt")
    merged_at: GitHubDateTime | None = Field(default=None, alias="mergedAt")
    closed_at: GitHubDateTime | None = Field(default=None, alias="closedAt")
    author: Actor | None = None
    base_ref_name: str | None = Field(default=None, alias="baseRefName")
    head_ref_name: str | None = Field(default=None, alias="headRefName")
    merge_commit: MergeCommit | None = Field(default=None, alias="mergeCommit")
    additions: int | None = None
    deletions: int | None = None
    changed_files: int | None = Field(default=None, alias="changedFiles")
    commits: CommitConnection | None = None
    reviews: ReviewConnection | None = None
    comments: IssueCommentConnection | None = None
    review_threads: ReviewThreadConnection | None = Field(default=None, alias="reviewThreads")


class RefName(GitHubModel):
    name: str | None = None
    prefix: str | None = None


class DeploymentStatus(GitHubModel):
    id: str | None = None
    state: str
    created_at: GitHubDateTime | None = Field(default=None, alias="createdAt")
    updated_at: GitHubDateTime | None = Field(default=None, alias="updatedAt")


class DeploymentStatusConnection(GitHubModel):
    total_count: int | None = Field(default=None, alias="totalCount")
    page_info: PageInfo | None = Field(default=None, alias="pageInfo")
    nodes: list[DeploymentStatus | None] = Field(default_factory=list)


class Deployment(GitHubModel):
    """``Deployment``: https://docs.github.com/graphql/reference/objects#deployment"""

    id: str
    database_id: int | None = Field(default=None, alias="databaseId")
    environment: str | None = None
    original_environment: str | None = Field(default=None, alias="originalEnvironment")
    state: str | None = None
    task: str | None = None
    created_at: GitHubDateTime = Field(alias="createdAt")
    updated_at: GitHubDateTime | None = Field(default=None, alias="updatedAt")
    commit_oid: str | None = Field(default=None, alias="commitOid")
    ref: RefName | None = None
    latest_status: DeploymentStatus | None = Field(default=None, alias="latestStatus")
    statuses: DeploymentStatusConnection | None = None


class Repository(GitHubModel):
    id: str
    database_id: int | None = Field(default=None, alias="databaseId")
    name_with_owner: str = Field(alias="nameWithOwner")
    url: str | None = None
    is_archived: bool | None = Field(default=None, alias="isArchived")
    default_branch_ref: RefName | None = Field(default=None, alias="defaultBranchRef")

    @property
    def default_branch(self) -> str | None:
        return self.default_branch_ref.name if self.default_branch_ref else None


class Viewer(GitHubModel):
    login: str
    name: str | None = None
