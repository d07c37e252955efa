"""REST payloads: workflow runs, repository search, and the REST shapes of pull requests and
their parts (the recorded DevLake captures are REST; our sync reads them over GraphQL).

https://docs.github.com/rest/actions/workflow-runs , https://docs.github.com/rest/pulls ,
https://docs.github.com/rest/search/search#search-repositories
"""

from __future__ import annotations

from pydantic import Field

from connectors.github.models.base import GitHubDateTime, GitHubModel


class SimpleUser(GitHubModel):
    login: str
    id: int | None = None
    type: str | None = None


class RestRepository(GitHubModel):
    id: int
    node_id: str
    full_name: str
    html_url: str | None = None
    default_branch: str | None = None
    archived: bool | None = None


class RepositorySearch(GitHubModel):
    total_count: int
    incomplete_results: bool = False
    items: list[RestRepository] = Field(default_factory=list)


class WorkflowRun(GitHubModel):
    id: int
    name: str | None = None
    node_id: str | None = None
    head_branch: str | None = None
    head_sha: str
    path: str | None = None
    run_number: int | None = None
    event: str | None = None
    status: str | None = None
    conclusion: str | None = None
    workflow_id: int | None = None
    created_at: GitHubDateTime
    updated_at: GitHubDateTime | None = None
    run_started_at: GitHubDateTime | None = None


class WorkflowRunPage(GitHubModel):
    total_count: int
    workflow_runs: list[WorkflowRun] = Field(default_factory=list)


class RestBranchRef(GitHubModel):
    ref: str
    sha: str | None = None


class RestPullRequest(GitHubModel):
    id: int
    node_id: str | None = None
    number: int
    state: str  # "open" | "closed" (merged is merged_at != null)
    title: str | None = None
    html_url: str | None = None
    user: SimpleUser | None = None
    created_at: GitHubDateTime
    updated_at: GitHubDateTime
    closed_at: GitHubDateTime | None = None
    merged_at: GitHubDateTime | None = None
    merge_commit_sha: str | None = None
    head: RestBranchRef | None = None
    base: RestBranchRef | None = None
    additions: int | None = None
    deletions: int | None = None
    changed_files: int | None = None


class RestGitActor(GitHubModel):
    name: str | None = None
    email: str | None = None
    date: GitHubDateTime | None = None


class RestGitCommit(GitHubModel):
    author: RestGitActor | None = None
    committer: RestGitActor | None = None
    message: str | None = None


class RestCommit(GitHubModel):
    sha: str
    commit: RestGitCommit
    author: SimpleUser | None = None


class RestReview(GitHubModel):
    id: int
    node_id: str | None = None
    user: SimpleUser | None = None
    state: str
    submitted_at: GitHubDateTime | None = None


class RestComment(GitHubModel):
    """An issue comment or a pull request review comment."""

    id: int
    node_id: str | None = None
    user: SimpleUser | None = None
    created_at: GitHubDateTime
    updated_at: GitHubDateTime | None = None
    pull_request_review_id: int | None = None
