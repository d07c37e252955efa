"""GraphQL resolvers over the generated organisation, attached to the schema subset.

Field semantics follow GitHub's GraphQL reference (https://docs.github.com/graphql/reference);
connection arguments follow https://docs.github.com/graphql/guides/using-pagination-in-the-graphql-api
and the limits https://docs.github.com/graphql/overview/rate-limits-and-node-limits-for-the-graphql-api
(``first``/``last`` required once ``nodes``/``edges`` are selected, at most 100).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLSchema,
    GraphQLUnionType,
    InlineFragmentNode,
    SelectionSetNode,
    build_schema,
)

from connectors.sandbox.code_model import ChangedFile, Comment, Commit, DeploymentStatus
from connectors.sandbox.code_model import PullRequest as PR
from connectors.sandbox.github import cursors
from connectors.sandbox.github.analysis import Analysis
from connectors.sandbox.github.cursors import Connection, CursorError, Key, Window
from connectors.sandbox.github.data import HTML, Account, DeploymentView, GitHubData
from connectors.sandbox.ratelimit import Decision
from connectors.sandbox.structure import Repository, node_id
from connectors.sandbox.timefmt import github_timestamp

SCHEMA_PATH = Path(__file__).with_name("schema.graphql")
MAX_PAGE = 100
T = TypeVar("T")
Resolver = Callable[..., Any]
Info = GraphQLResolveInfo[Any]


class GitHubFieldError(GraphQLError):
    """An execution error with GitHub's ``type`` (NOT_FOUND, MISSING_PAGINATION_BOUNDARIES…)."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message, extensions={"type": error_type})


@dataclass
class Context:
    data: GitHubData
    analysis: Analysis
    decision: Decision


@dataclass(frozen=True, slots=True)
class RateLimitView:
    cost: int
    limit: int
    nodeCount: int
    remaining: int
    resetAt: str
    used: int


# ---------------------------------------------------------------------- source objects
@dataclass(frozen=True, slots=True)
class CommitRef:
    repo: Repository
    commit: Commit


@dataclass(frozen=True, slots=True)
class PRCommitRef:
    pr: PR
    repo: Repository
    commit: Commit


@dataclass(frozen=True, slots=True)
class ReviewRef:
    pr: PR
    repo: Repository
    review: Any  # code_model.Review


@dataclass(frozen=True, slots=True)
class CommentRef:
    pr: PR
    repo: Repository
    comment: Comment


@dataclass(frozen=True, slots=True)
class ThreadRef:
    pr: PR
    repo: Repository
    comment: Comment


@dataclass(frozen=True, slots=True)
class GitActorRef:
    name: str
    email: str
    date_ms: int
    login: str | None


@dataclass(frozen=True, slots=True)
class DeploymentRef:
    repo: Repository
    view: DeploymentView


@dataclass(frozen=True, slots=True)
class StatusRef:
    dep: DeploymentRef
    status: DeploymentStatus


@dataclass(frozen=True, slots=True)
class RefRef:
    repo: Repository
    name: str


# ---------------------------------------------------------------------- helpers
def _ctx(info: Info) -> Context:
    ctx: Context = info.context
    return ctx


def _selects_items(info: Info) -> bool:
    def walk(selection_set: SelectionSetNode | None) -> bool:
        for sel in selection_set.selections if selection_set else ():
            if isinstance(sel, FieldNode) and sel.name.value in ("nodes", "edges"):
                return True
            if isinstance(sel, InlineFragmentNode) and walk(sel.selection_set):
                return True
            if isinstance(sel, FragmentSpreadNode):
                frag = info.fragments.get(sel.name.value)
                if frag is not None and walk(frag.selection_set):
                    return True
        return False

    return any(walk(node.selection_set) for node in info.field_nodes)


def window(info: Info, args: dict[str, Any]) -> Window:
    """Check ``first``/``last`` as GitHub does and return the requested window."""
    name = info.field_name
    first, last = args.get("first"), args.get("last")
    if first is None and last is None:
        if _selects_items(info):
            raise GitHubFieldError(
                "MISSING_PAGINATION_BOUNDARIES",
                f"You must provide a `first` or `last` value to properly paginate the "
                f"`{name}` connection.",
            )
        first = 0
    for arg, value in (("first", first), ("last", last)):
        if value is not None and value > MAX_PAGE:
            raise GitHubFieldError(
                "EXCESSIVE_PAGINATION",
                f"Requesting {value} records on the `{name}` connection exceeds the `{arg}` "
                f"limit of {MAX_PAGE} records.",
            )
    return Window(
        first=None if first is None else max(0, first),
        last=None if last is None else max(0, last),
        after=args.get("after"),
        before=args.get("before"),
    )


def connect(
    info: Info,
    args: dict[str, Any],
    items: Sequence[T],
    keys: Sequence[Key] | None = None,
    **extra: Any,
) -> Connection[T]:
    w = window(info, args)
    if keys is None:
        keys = [(i,) for i in range(len(items))]
    try:
        chosen, cs, page_info = cursors.page(items, keys, w)
    except CursorError as exc:
        raise GitHubFieldError("INVALID_CURSOR_ARGUMENTS", str(exc)) from None
    return Connection(chosen, cs, page_info, len(items), extra)


def _ts(ms: int | None) -> str | None:
    return None if ms is None else github_timestamp(ms)


def _not_found(kind: str, message: str) -> GitHubFieldError:
    return GitHubFieldError("NOT_FOUND", message)


# ---------------------------------------------------------------------- Query
def q_viewer(_: Any, info: Info) -> Account:
    return _ctx(info).data.viewer


def q_rate_limit(_: Any, info: Info, dryRun: bool = False) -> RateLimitView:
    ctx = _ctx(info)
    d = ctx.decision
    return RateLimitView(
        cost=ctx.analysis.cost,
        limit=d.limit,
        nodeCount=ctx.analysis.node_count,
        remaining=d.remaining,
        resetAt=github_timestamp(int(d.reset_at) * 1000),
        used=d.used,
    )


def q_repository(_: Any, info: Info, owner: str, name: str, **__: Any) -> Repository:
    repo = _ctx(info).data.repository(owner, name)
    if repo is None:
        raise _not_found(
            "Repository", f"Could not resolve to a Repository with the name '{owner}/{name}'."
        )
    return repo


def q_organization(_: Any, info: Info, login: str) -> Account:
    data = _ctx(info).data
    client = data.organization(login)
    if client is None:
        raise _not_found(
            "Organization", f"Could not resolve to an Organization with the login of '{login}'."
        )
    return data.organization_account(client)


def q_user(_: Any, info: Info, login: str) -> Account:
    data = _ctx(info).data
    if login == data.viewer.login or any(u.github_login == login for u in data.org.users):
        return data.account(login)
    raise _not_found("User", f"Could not resolve to a User with the login of '{login}'.")


def _node(data: GitHubData, ident: str) -> Any:
    if ident.startswith("PR_"):
        return data.pull_request_by_node_id(ident)
    if ident.startswith("R_"):
        return next((r for r in data.org.repositories if r.node_id == ident), None)
    return None


def q_node(_: Any, info: Info, id: str) -> Any:
    found = _node(_ctx(info).data, id)
    if found is None:
        raise _not_found("Node", f"Could not resolve to a node with the global id of '{id}'")
    return found


def q_nodes(_: Any, info: Info, ids: list[str]) -> list[Any]:
    if len(ids) > MAX_PAGE:
        raise GitHubFieldError(
            "ARGUMENT_LIMIT", f"You may not request more than {MAX_PAGE} nodes at once."
        )
    return [_node(_ctx(info).data, i) for i in ids]


def q_search(
    _: Any,
    info: Info,
    query: str,
    type: str,
    **args: Any,
) -> Connection[Any]:
    """``search(type: REPOSITORY)`` with the qualifiers ``org:``, ``user:``, ``repo:`` and
    free text matched against the name; other types find nothing here. Search is capped at
    1,000 results: https://docs.github.com/graphql/reference/queries#search"""
    data = _ctx(info).data
    found: list[Repository] = []
    if type == "REPOSITORY":
        owners: set[str] = set()
        names: set[str] = set()
        words: list[str] = []
        for token in query.split():
            qualifier, sep, value = token.partition(":")
            if sep and qualifier.lower() in ("org", "user", "owner"):
                owners.add(value.lower())
            elif sep and qualifier.lower() == "repo":
                names.add(value.lower())
            elif not sep:
                words.append(token.lower())
        for repo in data.org.repositories:
            if owners and repo.owner.lower() not in owners:
                continue
            if names and repo.full_name.lower() not in names:
                continue
            if words and not all(w in repo.name.lower() for w in words):
                continue
            found.append(repo)
    found = found[:1000]
    return connect(
        info, args, found, None, repositoryCount=len(found), issueCount=0, userCount=0,
        codeCount=0, discussionCount=0, wikiCount=0,
    )  # fmt: skip


# ---------------------------------------------------------------------- owners
def owner_repositories(acc: Account, info: Info, **args: Any) -> Connection[Any]:
    data = _ctx(info).data
    client = None if acc.client is None else data.org.clients[acc.client]
    repos = data.repositories_of(client)
    order = args.get("orderBy") or {}
    field = order.get("field")
    if field in ("CREATED_AT", "UPDATED_AT", "PUSHED_AT"):
        repos.sort(key=lambda r: (r.created_ms, r.database_id))
        keys: list[Key] = [(r.created_ms, r.database_id) for r in repos]
    elif field == "NAME":
        repos.sort(key=lambda r: r.name)
        keys = [(i,) for i in range(len(repos))]
    else:
        keys = [(r.database_id,) for r in repos]
        pairs = sorted(zip(keys, repos, strict=True))
        keys, repos = [k for k, _ in pairs], [r for _, r in pairs]
    if order.get("direction") == "DESC":
        repos.reverse()
        keys = [tuple(-k for k in key) for key in reversed(keys)]
    return connect(info, args, repos, keys, totalDiskUsage=len(repos) * 2048)


def owner_repository(acc: Account, info: Info, name: str, **_: Any) -> Any:
    repo = _ctx(info).data.repository(acc.login, name)
    if repo is None:
        raise _not_found("Repository", f"Could not resolve to a Repository with the name '{name}'.")
    return repo


ACCOUNT: dict[str, Resolver] = {
    "id": lambda a, i: a.node_id,
    "login": lambda a, i: a.graphql_login,
    "databaseId": lambda a, i: a.database_id,
    "name": lambda a, i: a.name,
    "email": lambda a, i: a.email or "",
    "description": lambda a, i: f"{a.name} engineering",
    "avatarUrl": lambda a, i, size=None: a.avatar_url,
    "url": lambda a, i: a.html_url,
    "resourcePath": lambda a, i: a.html_url.removeprefix(HTML),
    "createdAt": lambda a, i: "2015-01-01T00:00:00Z",
    "updatedAt": lambda a, i: "2025-01-01T00:00:00Z",
    "repositories": owner_repositories,
    "repository": owner_repository,
}


# ---------------------------------------------------------------------- repository
def repo_pull_requests(repo: Repository, info: Info, **args: Any) -> Connection[PR]:
    data = _ctx(info).data
    order = args.get("orderBy") or {}
    indices, keys = data.pull_request_order(repo.index, order.get("field") or "CREATED_AT")
    states = args.get("states")
    head, base = args.get("headRefName"), args.get("baseRefName")
    if states or head or base:
        kept = [
            (j, k)
            for j, k in zip(indices, keys, strict=True)
            if (pr := data.pull_request(j))
            and (not states or pr.state in states)
            and (not head or pr.head_ref == head)
            and (not base or pr.base_ref == base)
        ]
        indices, keys = [j for j, _ in kept], [k for _, k in kept]
    if order.get("direction") == "DESC":
        indices = indices[::-1]
        keys = [tuple(-x for x in k) for k in reversed(keys)]
    conn = connect(info, args, indices, keys)
    return Connection(
        [data.pull_request(j) for j in conn.nodes], conn.cursors, conn.pageInfo, conn.totalCount
    )


def repo_pull_request(repo: Repository, info: Info, number: int) -> PR:
    pr = _ctx(info).data.pull_request_by_number(repo, number)
    if pr is None:
        raise _not_found(
            "PullRequest",
            f"Could not resolve to a PullRequest with the number of {number}.",
        )
    return pr


def repo_deployments(repo: Repository, info: Info, **args: Any) -> Connection[DeploymentRef]:
    """``Repository.deployments``: ``environments`` filter, ``orderBy: {field: CREATED_AT}``
    (the only DeploymentOrderField); statuses are listed newest first, as GitHub does."""
    data = _ctx(info).data
    keys = data.deployment_slots(repo.index, args.get("environments"))
    if (args.get("orderBy") or {}).get("direction") == "DESC":
        keys = [tuple(-x for x in k) for k in reversed(keys)]
    conn = connect(info, args, keys, keys)
    nodes = [
        DeploymentRef(repo, data.deployment(repo.index, abs(k[2]), abs(k[3]))) for k in conn.nodes
    ]
    return Connection(nodes, conn.cursors, conn.pageInfo, conn.totalCount)


def _repo_url(r: Repository) -> str:
    return f"{HTML}/{r.full_name}"


REPOSITORY: dict[str, Resolver] = {
    "id": lambda r, i: r.node_id,
    "databaseId": lambda r, i: r.database_id,
    "name": lambda r, i: r.name,
    "nameWithOwner": lambda r, i: r.full_name,
    "owner": lambda r, i: _ctx(i).data.account(r.owner),
    "createdAt": lambda r, i: github_timestamp(r.created_ms),
    "updatedAt": lambda r, i: github_timestamp(_ctx(i).data.org.now_ms),
    "pushedAt": lambda r, i: github_timestamp(_ctx(i).data.org.now_ms),
    "description": lambda r, i: f"{r.name} service",
    "isArchived": lambda r, i: False,
    "isFork": lambda r, i: False,
    "isPrivate": lambda r, i: True,
    "visibility": lambda r, i: "PRIVATE",
    "url": lambda r, i: _repo_url(r),
    "resourcePath": lambda r, i: f"/{r.full_name}",
    "defaultBranchRef": lambda r, i: RefRef(r, r.default_branch),
    "pullRequests": repo_pull_requests,
    "pullRequest": repo_pull_request,
    "deployments": repo_deployments,
}

REF: dict[str, Resolver] = {
    "id": lambda x, i: node_id("REF_kwDO", hash((x.repo.database_id, x.name)) & 0xFFFFFFFFFFFF),
    "name": lambda x, i: x.name,
    "prefix": lambda x, i: "refs/heads/",
    "repository": lambda x, i: x.repo,
}


# ---------------------------------------------------------------------- pull request
def _repo_of(info: Info, pr: PR) -> Repository:
    return _ctx(info).data.org.repositories[pr.repository]


def _pr_url(info: Info, pr: PR) -> str:
    return f"{_repo_url(_repo_of(info, pr))}/pull/{pr.number}"


def pr_commits(pr: PR, info: Info, **args: Any) -> Connection[PRCommitRef]:
    repo = _repo_of(info, pr)
    return connect(info, args, [PRCommitRef(pr, repo, c) for c in pr.commits])


def pr_reviews(pr: PR, info: Info, **args: Any) -> Connection[ReviewRef]:
    repo = _repo_of(info, pr)
    states = args.get("states")
    reviews = [ReviewRef(pr, repo, r) for r in pr.reviews if not states or r.state in states]
    return connect(info, args, reviews)


def pr_comments(pr: PR, info: Info, **args: Any) -> Connection[CommentRef]:
    """Conversation (issue) comments; diff comments live under ``reviewThreads``."""
    repo = _repo_of(info, pr)
    items = [CommentRef(pr, repo, c) for c in pr.comments if c.kind == "issue"]
    return connect(info, args, items)


def pr_review_threads(pr: PR, info: Info, **args: Any) -> Connection[ThreadRef]:
    repo = _repo_of(info, pr)
    return connect(info, args, [ThreadRef(pr, repo, c) for c in pr.comments if c.kind == "review"])


def pr_files(pr: PR, info: Info, **args: Any) -> Connection[ChangedFile]:
    return connect(info, args, list(pr.files))


def pr_merge_commit(pr: PR, info: Info) -> CommitRef | None:
    if pr.merge_commit_oid is None or pr.merged_ms is None:
        return None
    repo = _repo_of(info, pr)
    return CommitRef(repo, merge_commit(repo, pr))


def merge_commit(repo: Repository, pr: PR) -> Commit:
    merger = pr.merged_by or pr.author_login
    assert pr.merge_commit_oid is not None and pr.merged_ms is not None
    return Commit(
        oid=pr.merge_commit_oid,
        message=f"Merge pull request #{pr.number} from {repo.owner}/{pr.head_ref}\n\n{pr.title}",
        author_login=merger,
        author_name=merger,
        author_email=f"{merger}@users.noreply.github.com",
        authored_ms=pr.merged_ms,
        committed_ms=pr.merged_ms,
        additions=pr.additions,
        deletions=pr.deletions,
    )


def _association(info: Info, login: str) -> str:
    return "NONE" if login.endswith("[bot]") else "MEMBER"


PULL_REQUEST: dict[str, Resolver] = {
    "id": lambda p, i: p.node_id,
    "databaseId": lambda p, i: p.database_id,
    "fullDatabaseId": lambda p, i: str(p.database_id),
    "number": lambda p, i: p.number,
    "title": lambda p, i: p.title,
    "body": lambda p, i: p.body,
    "state": lambda p, i: p.state,
    "isDraft": lambda p, i: p.is_draft,
    "closed": lambda p, i: p.state != "OPEN",
    "merged": lambda p, i: p.state == "MERGED",
    "locked": lambda p, i: False,
    "isCrossRepository": lambda p, i: False,
    "createdAt": lambda p, i: github_timestamp(p.created_ms),
    "publishedAt": lambda p, i: github_timestamp(p.created_ms),
    "updatedAt": lambda p, i: github_timestamp(_ctx(i).data.updated_ms(p.index)),
    "lastEditedAt": lambda p, i: None,
    "closedAt": lambda p, i: _ts(p.closed_ms),
    "mergedAt": lambda p, i: _ts(p.merged_ms),
    "mergedBy": lambda p, i: _ctx(i).data.account(p.merged_by) if p.merged_by else None,
    "author": lambda p, i: _ctx(i).data.account(p.author_login),
    "authorAssociation": lambda p, i: _association(i, p.author_login),
    "baseRefName": lambda p, i: p.base_ref,
    "headRefName": lambda p, i: p.head_ref,
    "baseRefOid": lambda p, i: p.base_oid,
    "headRefOid": lambda p, i: p.head_oid,
    "baseRepository": lambda p, i: _repo_of(i, p),
    "headRepository": lambda p, i: _repo_of(i, p),
    "repository": lambda p, i: _repo_of(i, p),
    "additions": lambda p, i: p.additions,
    "deletions": lambda p, i: p.deletions,
    "changedFiles": lambda p, i: len(p.files),
    "totalCommentsCount": lambda p, i: len(p.comments),
    "reviewDecision": lambda p, i: p.review_decision,
    "url": lambda p, i: _pr_url(i, p),
    "permalink": lambda p, i: _pr_url(i, p),
    "resourcePath": lambda p, i: _pr_url(i, p).removeprefix(HTML),
    "mergeCommit": pr_merge_commit,
    "commits": pr_commits,
    "reviews": pr_reviews,
    "comments": pr_comments,
    "reviewThreads": pr_review_threads,
    "files": pr_files,
    "labels": lambda p, i, **a: connect(i, a, []),
}


def _commit_url(repo: Repository, oid: str) -> str:
    return f"{_repo_url(repo)}/commit/{oid}"


PR_COMMIT: dict[str, Resolver] = {
    "id": lambda c, i: node_id("PURC_kwDO", int(c.commit.oid[:12], 16)),
    "commit": lambda c, i: CommitRef(c.repo, c.commit),
    "pullRequest": lambda c, i: c.pr,
    "url": lambda c, i: f"{_pr_url(i, c.pr)}/commits/{c.commit.oid}",
    "resourcePath": lambda c, i: f"{_pr_url(i, c.pr)}/commits/{c.commit.oid}".removeprefix(HTML),
}


def _git_actor(c: Commit, committed: bool) -> GitActorRef:
    return GitActorRef(
        c.author_name,
        c.author_email,
        c.committed_ms if committed else c.authored_ms,
        c.author_login,
    )


COMMIT: dict[str, Resolver] = {
    "id": lambda c, i: node_id("C_kwDO", int(c.commit.oid[:12], 16)),
    "oid": lambda c, i: c.commit.oid,
    "abbreviatedOid": lambda c, i: c.commit.oid[:7],
    "message": lambda c, i: c.commit.message,
    "messageHeadline": lambda c, i: c.commit.message.split("\n", 1)[0],
    "messageBody": lambda c, i: c.commit.message.partition("\n")[2].strip("\n"),
    "authoredDate": lambda c, i: github_timestamp(c.commit.authored_ms),
    "committedDate": lambda c, i: github_timestamp(c.commit.committed_ms),
    "author": lambda c, i: _git_actor(c.commit, False),
    "committer": lambda c, i: _git_actor(c.commit, True),
    "additions": lambda c, i: c.commit.additions,
    "deletions": lambda c, i: c.commit.deletions,
    "changedFilesIfAvailable": lambda c, i: 1 + (c.commit.additions + c.commit.deletions) % 5,
    "url": lambda c, i: _commit_url(c.repo, c.commit.oid),
    "resourcePath": lambda c, i: _commit_url(c.repo, c.commit.oid).removeprefix(HTML),
}

GIT_ACTOR: dict[str, Resolver] = {
    "name": lambda g, i: g.name,
    "email": lambda g, i: g.email,
    "date": lambda g, i: github_timestamp(g.date_ms),
    "avatarUrl": lambda g, i, size=None: "https://avatars.githubusercontent.com/u/0?v=4",
    "user": lambda g, i: (
        _ctx(i).data.account(g.login) if g.login and not g.login.endswith("[bot]") else None
    ),
}

REVIEW: dict[str, Resolver] = {
    "id": lambda r, i: r.review.node_id,
    "databaseId": lambda r, i: r.review.database_id,
    "fullDatabaseId": lambda r, i: str(r.review.database_id),
    "author": lambda r, i: _ctx(i).data.account(r.review.author_login),
    "authorAssociation": lambda r, i: _association(i, r.review.author_login),
    "body": lambda r, i: r.review.body,
    "state": lambda r, i: r.review.state,
    "createdAt": lambda r, i: github_timestamp(r.review.submitted_ms),
    "publishedAt": lambda r, i: github_timestamp(r.review.submitted_ms),
    "submittedAt": lambda r, i: github_timestamp(r.review.submitted_ms),
    "updatedAt": lambda r, i: github_timestamp(r.review.submitted_ms),
    "pullRequest": lambda r, i: r.pr,
    "url": lambda r, i: f"{_pr_url(i, r.pr)}#pullrequestreview-{r.review.database_id}",
}


def _comment_fields(anchor: str) -> dict[str, Resolver]:
    return {
        "id": lambda c, i: c.comment.node_id,
        "databaseId": lambda c, i: c.comment.database_id,
        "fullDatabaseId": lambda c, i: str(c.comment.database_id),
        "author": lambda c, i: _ctx(i).data.account(c.comment.author_login),
        "authorAssociation": lambda c, i: _association(i, c.comment.author_login),
        "body": lambda c, i: c.comment.body,
        "createdAt": lambda c, i: github_timestamp(c.comment.created_ms),
        "publishedAt": lambda c, i: github_timestamp(c.comment.created_ms),
        "updatedAt": lambda c, i: github_timestamp(c.comment.created_ms),
        "pullRequest": lambda c, i: c.pr,
        "url": lambda c, i: f"{_pr_url(i, c.pr)}#{anchor}-{c.comment.database_id}",
    }


ISSUE_COMMENT = _comment_fields("issuecomment")
REVIEW_COMMENT = {
    **_comment_fields("discussion_r"),
    "url": lambda c, i: f"{_pr_url(i, c.pr)}#discussion_r{c.comment.database_id}",
    "path": lambda c, i: c.comment.path or "",
    "state": lambda c, i: "SUBMITTED",
}

THREAD: dict[str, Resolver] = {
    "id": lambda t, i: node_id("PRRT_kwDO", t.comment.database_id),
    "path": lambda t, i: t.comment.path or "",
    "line": lambda t, i: 1 + t.comment.database_id % 200,
    "isOutdated": lambda t, i: False,
    "isResolved": lambda t, i: t.pr.state != "OPEN",
    "pullRequest": lambda t, i: t.pr,
    "comments": lambda t, i, **a: connect(i, a, [CommentRef(t.pr, t.repo, t.comment)]),
}

CHANGED_FILE: dict[str, Resolver] = {
    "path": lambda f, i: f.path,
    "additions": lambda f, i: f.additions,
    "deletions": lambda f, i: f.deletions,
    "changeType": lambda f, i: f.change_type,
    "viewerViewedState": lambda f, i: "UNVIEWED",
}


# ---------------------------------------------------------------------- deployments
def _deployment_commit(d: DeploymentRef, info: Info) -> CommitRef:
    data = _ctx(info).data
    dep = d.view.deployment
    pr = data.merged_pull_request_before(d.repo.index, dep.created_ms)
    if pr is not None and pr.merge_commit_oid == dep.sha:
        return CommitRef(d.repo, merge_commit(d.repo, pr))
    return CommitRef(
        d.repo,
        Commit(dep.sha, "Initial commit", None, "Sandbox", "sandbox@pulse.local",
               d.repo.created_ms, d.repo.created_ms, 1, 0),
    )  # fmt: skip


def _statuses(d: DeploymentRef, info: Info, **args: Any) -> Connection[StatusRef]:
    newest_first = [StatusRef(d, s) for s in reversed(d.view.statuses)]
    return connect(info, args, newest_first)


DEPLOYMENT: dict[str, Resolver] = {
    "id": lambda d, i: d.view.deployment.node_id,
    "databaseId": lambda d, i: d.view.deployment.database_id,
    "commitOid": lambda d, i: d.view.deployment.sha,
    "commit": _deployment_commit,
    "createdAt": lambda d, i: github_timestamp(d.view.deployment.created_ms),
    "updatedAt": lambda d, i: github_timestamp(d.view.statuses[-1].created_ms),
    "creator": lambda d, i: _ctx(i).data.account(d.view.deployment.creator_login),
    "description": lambda d, i: "",
    "environment": lambda d, i: d.view.deployment.environment,
    "originalEnvironment": lambda d, i: d.view.deployment.environment,
    "latestStatus": lambda d, i: StatusRef(d, d.view.statuses[-1]) if d.view.statuses else None,
    "payload": lambda d, i: "{}",
    "ref": lambda d, i: RefRef(d.repo, d.view.deployment.ref),
    "repository": lambda d, i: d.repo,
    "state": lambda d, i: d.view.state,
    "statuses": _statuses,
    "task": lambda d, i: d.view.deployment.task,
}

DEPLOYMENT_STATUS: dict[str, Resolver] = {
    "id": lambda s, i: s.status.node_id,
    "createdAt": lambda s, i: github_timestamp(s.status.created_ms),
    "updatedAt": lambda s, i: github_timestamp(s.status.created_ms),
    "creator": lambda s, i: _ctx(i).data.account(s.dep.view.deployment.creator_login),
    "deployment": lambda s, i: s.dep,
    "description": lambda s, i: s.status.description,
    "environment": lambda s, i: s.dep.view.deployment.environment,
    "environmentUrl": lambda s, i: None,
    "logUrl": lambda s, i: s.status.log_url,
    "state": lambda s, i: s.status.state,
}

QUERY: dict[str, Resolver] = {
    "id": lambda _, i: "Q_sandbox",
    "viewer": q_viewer,
    "rateLimit": q_rate_limit,
    "repository": q_repository,
    "organization": q_organization,
    "user": q_user,
    "node": q_node,
    "nodes": q_nodes,
    "search": q_search,
}

RESOLVERS: dict[str, dict[str, Resolver]] = {
    "Query": QUERY,
    "User": ACCOUNT,
    "Bot": ACCOUNT,
    "Organization": ACCOUNT,
    "Repository": REPOSITORY,
    "Ref": REF,
    "PullRequest": PULL_REQUEST,
    "PullRequestCommit": PR_COMMIT,
    "Commit": COMMIT,
    "GitActor": GIT_ACTOR,
    "PullRequestReview": REVIEW,
    "IssueComment": ISSUE_COMMENT,
    "PullRequestReviewComment": REVIEW_COMMENT,
    "PullRequestReviewThread": THREAD,
    "PullRequestChangedFile": CHANGED_FILE,
    "Deployment": DEPLOYMENT,
    "DeploymentStatus": DEPLOYMENT_STATUS,
}


def _type_of(value: Any, info: Info, abstract: Any) -> str | None:
    if isinstance(value, Account):
        return value.kind
    if isinstance(value, Repository):
        return "Repository"
    if isinstance(value, PR):
        return "PullRequest"
    return None


@functools.cache
def schema() -> GraphQLSchema:
    """The schema subset with resolvers attached (built once per process)."""
    built = build_schema(SCHEMA_PATH.read_text(encoding="utf-8"), assume_valid_sdl=True)
    for type_name, fields in RESOLVERS.items():
        gql_type = built.type_map[type_name]
        assert isinstance(gql_type, GraphQLObjectType), type_name
        for field_name, resolver in fields.items():
            if field_name in gql_type.fields:
                gql_type.fields[field_name].resolve = resolver
    for gql_type in built.type_map.values():
        if isinstance(gql_type, GraphQLInterfaceType | GraphQLUnionType):
            gql_type.resolve_type = _type_of
    return built
