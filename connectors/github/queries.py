# ruff: noqa: UP031  (%-formatting keeps GraphQL braces readable; f-strings would double them)
"""Every GraphQL document the client sends, one place each.

Fields are GitHub's public schema (https://docs.github.com/graphql/reference).
Every query selects
``rateLimit { cost remaining resetAt limit used nodeCount }`` so the client always
knows its budget. Connection sizes are variables so the client can shrink them when the
budget runs low; nested connections that overflow their first page are continued with the
``*_PAGE`` queries through ``node(id:)``
(https://docs.github.com/graphql/guides/using-pagination-in-the-graphql-api).
"""

from __future__ import annotations

RATE_LIMIT_FIELDS = "rateLimit { cost remaining resetAt limit used nodeCount }"

PAGE_INFO = "pageInfo { hasNextPage endCursor }"

COMMIT_FIELDS = """
fragment CommitFields on PullRequestCommit {
  commit { oid message authoredDate committedDate additions deletions
           author { name email user { login } } }
}
"""

REVIEW_FIELDS = """
fragment ReviewFields on PullRequestReview { id state submittedAt author { login } }
"""

ISSUE_COMMENT_FIELDS = """
fragment IssueCommentFields on IssueComment { id createdAt author { login } }
"""

REVIEW_COMMENT_FIELDS = """
fragment ReviewCommentFields on PullRequestReviewComment { id createdAt author { login } }
"""

THREAD_FIELDS = (
    """
fragment ThreadFields on PullRequestReviewThread {
  id
  comments(first: $threadComments) { totalCount %s nodes { ...ReviewCommentFields } }
}
"""
    % PAGE_INFO
)

PULL_REQUEST_FIELDS = """
fragment PullRequestFields on PullRequest {
  id number title url state isDraft createdAt updatedAt mergedAt closedAt
  author { login } baseRefName headRefName mergeCommit { oid }
  additions deletions changedFiles
  commits(first: $commits) { totalCount %(pi)s nodes { ...CommitFields } }
  reviews(first: $reviews) { totalCount %(pi)s nodes { ...ReviewFields } }
  comments(first: $comments) { totalCount %(pi)s nodes { ...IssueCommentFields } }
  reviewThreads(first: $threads) { totalCount %(pi)s nodes { ...ThreadFields } }
}
""" % {"pi": PAGE_INFO}

_PR_FRAGMENTS = (
    PULL_REQUEST_FIELDS
    + COMMIT_FIELDS
    + REVIEW_FIELDS
    + ISSUE_COMMENT_FIELDS
    + THREAD_FIELDS
    + REVIEW_COMMENT_FIELDS
)

PULL_REQUESTS_PAGE = (
    """
query PullRequestsPage($owner: String!, $name: String!, $cursor: String, $first: Int!,
    $commits: Int!, $reviews: Int!, $comments: Int!, $threads: Int!, $threadComments: Int!) {
  %s
  repository(owner: $owner, name: $name) {
    pullRequests(first: $first, after: $cursor, orderBy: {field: UPDATED_AT, direction: DESC}) {
      totalCount %s
      nodes { ...PullRequestFields }
    }
  }
}
"""
    % (RATE_LIMIT_FIELDS, PAGE_INFO)
    + _PR_FRAGMENTS
)
"""Pull requests of one repository, newest-updated first, with nested first pages."""

PR_COMMITS_PAGE = (
    """
query PullRequestCommits($id: ID!, $cursor: String, $first: Int!) {
  %s
  node(id: $id) { ... on PullRequest {
    commits(first: $first, after: $cursor) { totalCount %s nodes { ...CommitFields } } } }
}
"""
    % (RATE_LIMIT_FIELDS, PAGE_INFO)
    + COMMIT_FIELDS
)

PR_REVIEWS_PAGE = (
    """
query PullRequestReviews($id: ID!, $cursor: String, $first: Int!) {
  %s
  node(id: $id) { ... on PullRequest {
    reviews(first: $first, after: $cursor) { totalCount %s nodes { ...ReviewFields } } } }
}
"""
    % (RATE_LIMIT_FIELDS, PAGE_INFO)
    + REVIEW_FIELDS
)

PR_COMMENTS_PAGE = (
    """
query PullRequestComments($id: ID!, $cursor: String, $first: Int!) {
  %s
  node(id: $id) { ... on PullRequest {
    comments(first: $first, after: $cursor) { totalCount %s nodes { ...IssueCommentFields } } } }
}
"""
    % (RATE_LIMIT_FIELDS, PAGE_INFO)
    + ISSUE_COMMENT_FIELDS
)

PR_THREADS_PAGE = (
    """
query PullRequestThreads($id: ID!, $cursor: String, $first: Int!, $threadComments: Int!) {
  %s
  node(id: $id) { ... on PullRequest {
    reviewThreads(first: $first, after: $cursor) { totalCount %s nodes { ...ThreadFields } } } }
}
"""
    % (RATE_LIMIT_FIELDS, PAGE_INFO)
    + THREAD_FIELDS
    + REVIEW_COMMENT_FIELDS
)

THREAD_COMMENTS_PAGE = (
    """
query ThreadComments($id: ID!, $cursor: String, $first: Int!) {
  %s
  node(id: $id) { ... on PullRequestReviewThread {
    comments(first: $first, after: $cursor) { totalCount %s nodes { ...ReviewCommentFields } } } }
}
"""
    % (RATE_LIMIT_FIELDS, PAGE_INFO)
    + REVIEW_COMMENT_FIELDS
)

DEPLOYMENT_FIELDS = (
    """
fragment DeploymentFields on Deployment {
  id databaseId environment originalEnvironment state task createdAt updatedAt commitOid
  ref { name prefix }
  latestStatus { state createdAt updatedAt }
  statuses(first: $statuses) { totalCount %s nodes { id state createdAt updatedAt } }
}
"""
    % PAGE_INFO
)

DEPLOYMENTS_PAGE = (
    """
query DeploymentsPage($owner: String!, $name: String!, $cursor: String, $first: Int!,
    $statuses: Int!) {
  %s
  repository(owner: $owner, name: $name) {
    deployments(first: $first, after: $cursor, orderBy: {field: CREATED_AT, direction: DESC}) {
      totalCount %s
      nodes { ...DeploymentFields }
    }
  }
}
"""
    % (RATE_LIMIT_FIELDS, PAGE_INFO)
    + DEPLOYMENT_FIELDS
)
"""Deployments of one repository, newest first, with their statuses (newest first)."""

DEPLOYMENT_STATUSES_PAGE = """
query DeploymentStatuses($id: ID!, $cursor: String, $first: Int!) {
  %s
  node(id: $id) { ... on Deployment {
    statuses(first: $first, after: $cursor) {
      totalCount %s nodes { id state createdAt updatedAt } } } }
}
""" % (RATE_LIMIT_FIELDS, PAGE_INFO)

REPOSITORY_FIELDS = """
fragment RepositoryFields on Repository {
  id databaseId nameWithOwner url isArchived defaultBranchRef { name }
}
"""

REPOSITORY = (
    """
query Repository($owner: String!, $name: String!) {
  %s
  repository(owner: $owner, name: $name) { ...RepositoryFields }
}
"""
    % RATE_LIMIT_FIELDS
    + REPOSITORY_FIELDS
)

ORGANIZATION_REPOSITORIES = (
    """
query OrganizationRepositories($login: String!, $cursor: String, $first: Int!) {
  %s
  organization(login: $login) {
    repositories(first: $first, after: $cursor, orderBy: {field: NAME, direction: ASC}) {
      totalCount %s nodes { ...RepositoryFields }
    }
  }
}
"""
    % (RATE_LIMIT_FIELDS, PAGE_INFO)
    + REPOSITORY_FIELDS
)

VIEWER = "query Viewer { %s viewer { login name } }" % RATE_LIMIT_FIELDS
"""Who the token belongs to (the connection test)."""
