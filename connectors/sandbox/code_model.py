"""Plain data of the generated GitHub side: pull requests and what hangs off them, and
deployments with their statuses. Enum values are GitHub's own (GraphQL schema enums), so a
simulator can emit them unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Commit:
    oid: str
    message: str
    author_login: str | None
    author_name: str
    author_email: str
    authored_ms: int
    committed_ms: int
    additions: int
    deletions: int


@dataclass(frozen=True, slots=True)
class Review:
    database_id: int
    node_id: str
    author_login: str
    state: str  # APPROVED | CHANGES_REQUESTED | COMMENTED | DISMISSED
    submitted_ms: int
    body: str


@dataclass(frozen=True, slots=True)
class Comment:
    database_id: int
    node_id: str
    author_login: str
    kind: str  # "issue" (conversation) | "review" (on a diff line)
    created_ms: int
    body: str
    path: str | None  # file of a review comment


@dataclass(frozen=True, slots=True)
class ChangedFile:
    path: str
    additions: int
    deletions: int
    change_type: str  # ADDED | MODIFIED | DELETED | RENAMED


@dataclass(frozen=True, slots=True)
class PullRequest:
    index: int  # org-wide, in creation order
    repository: int
    number: int
    database_id: int
    node_id: str
    title: str
    body: str
    state: str  # OPEN | CLOSED | MERGED
    is_draft: bool
    author_login: str
    base_ref: str
    head_ref: str
    head_oid: str
    base_oid: str
    created_ms: int
    updated_ms: int
    closed_ms: int | None
    merged_ms: int | None
    merged_by: str | None
    merge_commit_oid: str | None
    jira_key: str | None
    issue_index: int | None
    commits: tuple[Commit, ...]
    reviews: tuple[Review, ...]
    comments: tuple[Comment, ...]
    files: tuple[ChangedFile, ...]
    force_pushed_ms: tuple[int, ...]

    @property
    def additions(self) -> int:
        return sum(f.additions for f in self.files)

    @property
    def deletions(self) -> int:
        return sum(f.deletions for f in self.files)

    @property
    def review_decision(self) -> str | None:
        """GraphQL ``reviewDecision``: the latest non-comment review state, if any."""
        for review in reversed(self.reviews):
            if review.state == "APPROVED":
                return "APPROVED"
            if review.state == "CHANGES_REQUESTED":
                return "CHANGES_REQUESTED"
        return "REVIEW_REQUIRED" if self.state == "OPEN" else None


@dataclass(frozen=True, slots=True)
class DeploymentStatus:
    database_id: int
    node_id: str
    state: str  # QUEUED | IN_PROGRESS | SUCCESS | FAILURE | ERROR | INACTIVE
    created_ms: int
    description: str
    log_url: str


@dataclass(frozen=True, slots=True)
class Deployment:
    repository: int
    environment: str  # "production" | "staging"
    slot: int
    database_id: int
    node_id: str
    sha: str
    ref: str
    task: str
    creator_login: str
    created_ms: int
    updated_ms: int
    statuses: tuple[DeploymentStatus, ...]  # oldest first
    incident_issue: int | None  # issue index of the incident this deployment caused

    @property
    def state(self) -> str:
        """GraphQL ``Deployment.state`` (DeploymentState), from the latest status."""
        return self.statuses[-1].state if self.statuses else "PENDING"
