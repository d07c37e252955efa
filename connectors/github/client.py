"""The typed GitHub client: GraphQL for pull requests and deployments, REST for workflow runs
and repository search, over the shared :class:`HttpClient` (one per token).

- GraphQL: ``POST {base}/graphql`` (GitHub.com, base ``https://api.github.com``) or
  ``POST {base}/api/graphql`` (Enterprise Server, base ``https://ghe.example.com``)
  https://docs.github.com/graphql/guides/forming-calls-with-graphql
- REST: ``{base}/…`` or ``{base}/api/v3/…`` on Enterprise Server.
- Auth: ``Authorization: Bearer <token>``; several tokens are used in turn.
- Limits: https://docs.github.com/graphql/overview/rate-limits-and-node-limits-for-the-graphql-api
  Every query selects ``rateLimit``; the client estimates a call's cost first (``cost.py``),
  picks a token that can afford it, shrinks page sizes when none can afford a full page,
  and sleeps until the reset — or raises ``RateLimited(reset_at)`` when that is too long.
  The primary limit arrives as HTTP 200 with an error of type ``RATE_LIMIT`` (older:
  ``RATE_LIMITED``); secondary limits as 403/429 with ``retry-after`` (handled by the HTTP
  stack) or without it (backoff here, at least a minute, doubling).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, TypeAdapter

from connectors.base import ConnectionCheck
from connectors.closing import Closing
from connectors.errors import BadPayload, ConnectorError, HttpStatusError
from connectors.github import queries
from connectors.github.budget import BudgetSnapshot, TokenBudget, TokenPool
from connectors.github.cost import estimate
from connectors.github.errors import GraphQLQueryError, describe, is_rate_limit_error
from connectors.github.models import (
    Deployment,
    DeploymentStatus,
    IssueComment,
    PullRequest,
    PullRequestCommit,
    RateLimit,
    Repository,
    RepositorySearch,
    Review,
    ReviewComment,
    ReviewThread,
    Viewer,
    WorkflowRun,
    WorkflowRunPage,
)
from connectors.http import (
    DEFAULT_TIMEOUT,
    BearerAuth,
    CancelCheck,
    Clock,
    HttpClient,
    HttpConfig,
    HttpCounters,
    Observer,
    RateLimitPolicy,
    RequestBudget,
    RetryPolicy,
    Secret,
    decode_json,
)
from connectors.http.gate import RateGate, gate_for
from connectors.validation import Rejected, validate_each, validate_whole

log = logging.getLogger("connectors.github")

GITHUB_API = "https://api.github.com"

GITHUB_PER_MINUTE = {"graphql": 2000, "rest": 900}
"""GitHub's secondary limits per minute: "No more than 900 points per minute are allowed for
REST API endpoints, and no more than 2,000 points per minute are allowed for the GraphQL API
endpoint" (a query or a GET is 1 point); and "No more than 100 concurrent requests are
allowed", shared by both —
https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api#about-secondary-rate-limits"""

GITHUB_MAX_IN_FLIGHT = 16
"""Requests one account sends at once: well under GitHub's 100 (see GITHUB_PER_MINUTE)."""


def github_gate(*account: str) -> RateGate:
    """The account's shared rate gate, with GitHub's secondary limits (one per process)."""

    def lane(method: str, path: str) -> str:
        return "graphql" if path.rstrip("/").endswith("graphql") else "rest"

    return gate_for(
        "github",
        *account,
        make=lambda: RateGate(GITHUB_MAX_IN_FLIGHT, per_minute=GITHUB_PER_MINUTE, lane_of=lane),
    )


def split_tokens(stored: str) -> list[Secret]:
    """The tokens of one stored secret (several, one a line or comma-separated, are used in
    turn)."""
    return [Secret(t) for t in re.split(r"[\s,]+", stored) if t]


SECONDARY_MIN_WAIT = 60.0
_SECONDARY = re.compile(r"secondary rate limit|abuse detection|abuse", re.IGNORECASE)
_LINK_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="next"')
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class PageSizes:
    """Connection sizes of the pull-request query (each 1-100).

    Cost per page ≈ (1 + prs * (4 + threads)) / 100 points: nested connections are charged
    per parent whatever their own size, so ``commits`` etc. stay large and ``threads`` small.
    """

    prs: int = 50
    commits: int = 100
    reviews: int = 50
    comments: int = 50
    threads: int = 5
    thread_comments: int = 20
    deployments: int = 100
    statuses: int = 10
    nested: int = 100  # page size of node(id:) follow-up queries

    def pr_variables(self, first: int | None = None) -> dict[str, int]:
        return {
            "first": first or self.prs,
            "commits": self.commits,
            "reviews": self.reviews,
            "comments": self.comments,
            "threads": self.threads,
            "threadComments": self.thread_comments,
        }


@dataclass
class Page:
    """One page of a connection: validated items, rejected raw ones, and where to go next."""

    items: list[Any]
    rejected: list[Rejected]
    has_next: bool
    end_cursor: str | None
    total: int | None
    cost: int = 0


@dataclass
class GraphQLCall:
    data: dict[str, Any]
    errors: list[dict[str, Any]] = field(default_factory=list)
    rate_limit: RateLimit | None = None


class GitHubClient(Closing):
    """Reads GitHub (GitHub.com or Enterprise Server). Not thread-safe; one per job."""

    source = "github"

    def __init__(
        self,
        https: Sequence[HttpClient],
        *,
        graphql_path: str = "/graphql",
        rest_prefix: str = "",
        reserve_points: int = 0,
        secondary_max_attempts: int = 5,
        bad_body_retries: int = 2,
    ) -> None:
        self.https = list(https)
        self.pool: TokenPool[HttpClient] = TokenPool(self.https, reserve=reserve_points)
        self.graphql_path = graphql_path
        self.rest_prefix = rest_prefix
        self.secondary_max_attempts = secondary_max_attempts
        self.bad_body_retries = bad_body_retries
        self.clock: Clock = self.https[0].clock
        self.graphql_calls = 0
        self.on_budget: Callable[[BudgetSnapshot], None] | None = None

    # -- construction ----------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        tokens: Secret | Sequence[Secret],
        base_url: str = GITHUB_API,
        *,
        enterprise: bool | None = None,
        transport: httpx.BaseTransport | None = None,
        clock: Clock | None = None,
        cancel: CancelCheck | None = None,
        observer: Observer | None = None,
        retry: RetryPolicy | None = None,
        rate_limit: RateLimitPolicy | None = None,
        budget: RequestBudget | None = None,
        timeout: httpx.Timeout | None = None,
        reserve_points: int = 0,
        gate: RateGate | None = None,
    ) -> GitHubClient:
        """A client for ``base_url`` with one or more tokens (used in turn).

        ``enterprise``: GitHub Enterprise Server layout (``/api/graphql``, ``/api/v3``). It is
        implied by a ``base_url`` ending in ``/api``, ``/api/v3`` or ``/api/graphql``; a bare
        host is taken as GitHub.com's layout (the sandbox plays ``api.github.com`` on any
        host), so pass ``enterprise=True`` for ``https://ghe.example.com``.
        """
        token_list = [tokens] if isinstance(tokens, Secret) else list(tokens)
        if not token_list or not all(t for t in token_list):
            raise ValueError("a GitHub token is required")
        root = base_url.rstrip("/")
        for suffix in ("/api/v3", "/api/graphql", "/api"):
            if root.endswith(suffix):
                root = root[: -len(suffix)]
                enterprise = True if enterprise is None else enterprise
                break
        if root.endswith("/graphql"):
            root = root[: -len("/graphql")]
        enterprise = bool(enterprise)
        https = [
            HttpClient(
                HttpConfig(
                    base_url=root,
                    source="github",
                    auth=BearerAuth(token),
                    timeout=timeout or DEFAULT_TIMEOUT,
                    retry=retry or RetryPolicy(),
                    rate_limit=rate_limit or RateLimitPolicy(),
                    budget=budget or RequestBudget(),
                    headers={
                        "Accept": "application/vnd.github+json",
                        "X-GitHub-Api-Version": "2022-11-28",
                    },
                ),
                transport=transport,
                clock=clock,
                cancel=cancel,
                observer=observer,
                gate=gate,
            )
            for token in token_list
        ]
        return cls(
            https,
            graphql_path="/api/graphql" if enterprise else "/graphql",
            rest_prefix="/api/v3" if enterprise else "",
            reserve_points=reserve_points,
        )

    # -- Connector protocol ----------------------------------------------------------------

    def counters(self) -> HttpCounters:
        total = HttpCounters()
        for http in self.https:
            total = total + http.counters()
        return total

    def close(self) -> None:
        for http in self.https:
            http.close()

    def __repr__(self) -> str:
        base = self.https[0].config.base_url
        return f"GitHubClient({base!r}, tokens={len(self.https)}, graphql={self.graphql_path!r})"

    def set_cancel(self, cancel: CancelCheck | None) -> None:
        for http in self.https:
            http.cancel = cancel

    def set_observer(self, observer: Observer | None) -> None:
        for http in self.https:
            http.observer = observer

    def budget(self) -> BudgetSnapshot:
        """Remaining GraphQL points over all tokens (for the console's health view)."""
        return self.pool.snapshot(self.clock.now())

    @property
    def points_used(self) -> int:
        return sum(t.points_used for t in self.pool.tokens)

    def test_connection(self) -> ConnectionCheck:
        """Who does the token belong to? One GraphQL call (1 point).

        https://docs.github.com/graphql/reference/queries#viewer
        """
        try:
            call = self.graphql(queries.VIEWER, {})
            viewer = validate_whole(
                TypeAdapter(Viewer), call.data.get("viewer"), what="the viewer", source="viewer"
            )
        except ConnectorError as exc:
            return ConnectionCheck(ok=False, title=exc.title, message=exc.message)
        snap = self.budget()
        left = f"; {snap.remaining} of {snap.limit} points left" if snap.remaining else ""
        server = self.https[0].config.base_url
        who = viewer.login + (f" ({viewer.name})" if viewer.name else "")
        return ConnectionCheck(
            ok=True,
            title="Connected",
            message=f"Connected to GitHub at {server} as {who}{left}.",
            account=viewer.login,
            server=server,
        )

    # -- GraphQL with the budget -----------------------------------------------------------

    def graphql(
        self, query: str, variables: dict[str, Any], *, allow_partial: bool = False
    ) -> GraphQLCall:
        """Run one query; returns its data (and non-fatal errors when ``allow_partial``)."""
        points = estimate(query, variables).points
        secondary = 0
        bad_bodies = 0
        while True:
            token = self._token_for(points)
            http = token.handle
            try:
                body = http.post_json(
                    self.graphql_path, {"query": query, "variables": variables}, retry_safe=True
                )
            except BadPayload:
                bad_bodies += 1
                if bad_bodies > self.bad_body_retries:
                    raise
                log.warning("GitHub sent an unreadable body; asking again (%d)", bad_bodies)
                continue
            except HttpStatusError as exc:
                if exc.status in (403, 429) and _is_secondary(exc):
                    secondary += 1
                    self._secondary_wait(http, secondary)
                    continue
                raise
            self.graphql_calls += 1
            if not isinstance(body, dict):
                raise BadPayload(
                    f"POST {self.graphql_path} returned {type(body).__name__}, not an object.",
                    raw=str(body),
                    url=self.graphql_path,
                )
            headers = http.last_rate_limit
            errors = [e for e in body.get("errors") or [] if isinstance(e, dict)]
            if any(is_rate_limit_error(e) for e in errors):
                reset = headers.reset_at if headers else None
                self.pool.exhaust(token, reset or self.clock.now() + timedelta(minutes=1))
                self._emit_budget()
                continue  # another token, or a wait until the reset
            data = body.get("data")
            rate = _rate_limit(data)
            self.pool.record(
                token,
                remaining=rate.remaining if rate else (headers.remaining if headers else None),
                limit=rate.limit if rate else (headers.limit if headers else None),
                reset_at=rate.reset_at if rate else (headers.reset_at if headers else None),
                cost=rate.cost if rate else points,
            )
            self._emit_budget()
            if errors and (data is None or not allow_partial):
                raise GraphQLQueryError(
                    f"GitHub refused the query: {describe(errors)}", errors=errors
                )
            if not isinstance(data, dict):
                raise BadPayload(
                    "GitHub answered without data or errors.", raw=str(body), url=self.graphql_path
                )
            return GraphQLCall(data, errors, rate)

    def fit(self, query: str, variables: dict[str, Any], key: str = "first") -> dict[str, Any]:
        """``variables`` with ``key`` halved until the call fits the best token's remaining
        points (down to 1); unchanged when the budget is unknown or ample."""
        now = self.clock.now()
        left = self.pool.best_remaining(now)
        if left is None:
            return variables
        left -= self.pool.reserve
        size = int(variables[key])
        while size > 1 and estimate(query, {**variables, key: size}).points > left:
            size = max(1, size // 2)
        if size != variables[key]:
            log.info("GitHub budget low (%d points): page size %s → %d", left, key, size)
        return {**variables, key: size}

    def _token_for(self, points: int) -> TokenBudget[HttpClient]:
        while True:
            now = self.clock.now()
            token = self.pool.choose(points, now)
            if token is not None:
                return token
            reset = self.pool.earliest_reset() or now + timedelta(minutes=1)
            wait = max(1.0, (reset - now).total_seconds() + 1.0)
            snap = self.pool.snapshot(now)
            reason = (
                f"GraphQL points: {snap.remaining or 0} left on {snap.tokens} token(s), "
                f"next call needs {points}"
            )
            # Sleeps through a short wait; raises RateLimited(reset_at) for a long one.
            self.https[0].wait_for_rate_limit(
                reset + timedelta(seconds=1), wait, reason, "POST", self.graphql_path
            )

    def _secondary_wait(self, http: HttpClient, attempt: int) -> None:
        """A secondary limit without ``retry-after``: wait ≥ 1 minute, doubling (docs:
        https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api#exceeding-the-rate-limit)."""
        if attempt > self.secondary_max_attempts:
            wait = SECONDARY_MIN_WAIT * 2 ** (attempt - 1)
            now = self.clock.now()
            raise http._rate_limited(now + timedelta(seconds=wait), wait, "secondary rate limit")
        wait = SECONDARY_MIN_WAIT * 2 ** (attempt - 1)
        now = self.clock.now()
        http.wait_for_rate_limit(
            now + timedelta(seconds=wait), wait, "secondary rate limit", "POST", self.graphql_path
        )

    def _emit_budget(self) -> None:
        if self.on_budget is not None:
            try:
                self.on_budget(self.budget())
            except Exception:  # an observer bug must never break extraction
                log.exception("budget observer failed")

    # -- repositories ----------------------------------------------------------------------

    def viewer(self) -> Viewer:
        call = self.graphql(queries.VIEWER, {})
        return validate_whole(_VIEWER, call.data.get("viewer"), what="viewer", source="viewer")

    def repository(self, full_name: str) -> Repository | None:
        """One repository by ``owner/name`` (renames followed); None if missing or hidden."""
        owner, _, name = full_name.partition("/")
        call = self.graphql(queries.REPOSITORY, {"owner": owner, "name": name}, allow_partial=True)
        raw = call.data.get("repository")
        if raw is None:
            return None
        return validate_whole(_REPOSITORY, raw, what="a repository", source=full_name)

    def iter_organization_repositories(self, login: str, *, first: int = 100) -> Iterator[Page]:
        """``organization(login).repositories``, by name.

        https://docs.github.com/graphql/reference/objects#organization
        """
        cursor: str | None = None
        while True:
            variables = self.fit(
                queries.ORGANIZATION_REPOSITORIES,
                {"login": login, "cursor": cursor, "first": first},
            )
            call = self.graphql(queries.ORGANIZATION_REPOSITORIES, variables, allow_partial=True)
            org = call.data.get("organization")
            if org is None:
                return
            page = _page(org.get("repositories"), Repository, "repository", f"org:{login}")
            yield page
            if not page.has_next:
                return
            cursor = page.end_cursor

    def search_repositories(self, q: str, *, per_page: int = 100) -> Iterator[Repository]:
        """``GET /search/repositories?q=`` (REST; at most 1,000 results).

        https://docs.github.com/rest/search/search#search-repositories
        """
        path: str | None = f"{self.rest_prefix}/search/repositories"
        params: dict[str, Any] | None = {"q": q, "per_page": per_page}
        while path is not None:
            response = self._rest_http().request("GET", path, params=params)
            data = validate_whole(
                _SEARCH, decode_json(response), what="repository search", source=path
            )
            for item in data.items:
                yield Repository.model_validate(
                    {
                        "id": item.node_id,
                        "databaseId": item.id,
                        "nameWithOwner": item.full_name,
                        "url": item.html_url,
                        "isArchived": item.archived,
                        "defaultBranchRef": {"name": item.default_branch},
                    }
                )
            path, params = _next_link(response), None

    # -- pull requests ---------------------------------------------------------------------

    def pull_request_page(
        self, full_name: str, cursor: str | None, sizes: PageSizes, *, first: int | None = None
    ) -> Page:
        """One page of a repository's pull requests, newest-updated first.

        https://docs.github.com/graphql/reference/objects#repository (``pullRequests``)
        """
        owner, _, name = full_name.partition("/")
        variables: dict[str, Any] = {
            "owner": owner,
            "name": name,
            "cursor": cursor,
            **sizes.pr_variables(first),
        }
        variables = self.fit(queries.PULL_REQUESTS_PAGE, variables)
        call = self.graphql(queries.PULL_REQUESTS_PAGE, variables, allow_partial=True)
        repo = call.data.get("repository")
        if repo is None:
            raise GraphQLQueryError(
                f"Repository {full_name} is gone or no longer visible to this token: "
                f"{describe(call.errors) or 'no details'}",
                errors=call.errors,
                title="Repository not found",
            )
        page = _page(repo.get("pullRequests"), PullRequest, "pull_request", full_name)
        page.cost = call.rate_limit.cost if call.rate_limit else 0
        return page

    def complete_pull_request(self, pr: PullRequest, sizes: PageSizes) -> list[Rejected]:
        """Fetch the rest of every nested connection that has more than its first page,
        through ``node(id:)``; mutates ``pr`` in place. Returns items that did not validate."""
        rejected = self._complete(
            pr.commits, queries.PR_COMMITS_PAGE, pr.id, "commits",
            PullRequestCommit, "pr_commit", sizes.nested,
        )  # fmt: skip
        rejected += self._complete(
            pr.reviews, queries.PR_REVIEWS_PAGE, pr.id, "reviews",
            Review, "pr_review", sizes.nested,
        )  # fmt: skip
        rejected += self._complete(
            pr.comments, queries.PR_COMMENTS_PAGE, pr.id, "comments",
            IssueComment, "pr_comment", sizes.nested,
        )  # fmt: skip
        rejected += self._complete(
            pr.review_threads, queries.PR_THREADS_PAGE, pr.id, "reviewThreads",
            ReviewThread, "pr_review_thread", min(sizes.nested, 25),
            {"threadComments": sizes.thread_comments},
        )  # fmt: skip
        for thread in pr.review_threads.nodes if pr.review_threads else []:
            if thread is not None:
                rejected += self._complete(
                    thread.comments, queries.THREAD_COMMENTS_PAGE, thread.id, "comments",
                    ReviewComment, "pr_review_comment", sizes.nested,
                )  # fmt: skip
        return rejected

    def _complete(
        self,
        connection: Any,
        query: str,
        node_id: str,
        field: str,
        model: type[M],
        kind: str,
        first: int,
        extra: dict[str, Any] | None = None,
    ) -> list[Rejected]:
        """Append the remaining pages of a nested connection (if it has more) to its nodes."""
        if connection is None or not connection.page_info.has_next_page:
            return []
        more, rejected = self._rest_of(
            query, node_id, field, connection.page_info.end_cursor, model, kind, first, extra
        )
        connection.nodes.extend(more)
        connection.page_info.has_next_page = False
        return rejected

    def _rest_of(
        self,
        query: str,
        node_id: str,
        connection: str,
        cursor: str | None,
        model: type[M],
        kind: str,
        first: int,
        extra: dict[str, Any] | None = None,
    ) -> tuple[list[M], list[Rejected]]:
        items: list[M] = []
        rejected: list[Rejected] = []
        while True:
            variables = self.fit(
                query, {"id": node_id, "cursor": cursor, "first": first, **(extra or {})}
            )
            call = self.graphql(query, variables)
            node = call.data.get("node")
            if node is None:
                break  # deleted meanwhile; the next sync sees it gone
            page = _page(node.get(connection), model, kind, f"node:{node_id}")
            items.extend(page.items)
            rejected.extend(page.rejected)
            if not page.has_next:
                break
            cursor = page.end_cursor
        return items, rejected

    # -- deployments -----------------------------------------------------------------------

    def deployment_page(self, full_name: str, cursor: str | None, sizes: PageSizes) -> Page:
        """One page of deployments, newest first, each with its first statuses (newest first).

        https://docs.github.com/graphql/reference/objects#deployment
        """
        owner, _, name = full_name.partition("/")
        variables = self.fit(
            queries.DEPLOYMENTS_PAGE,
            {
                "owner": owner,
                "name": name,
                "cursor": cursor,
                "first": sizes.deployments,
                "statuses": sizes.statuses,
            },
        )
        call = self.graphql(queries.DEPLOYMENTS_PAGE, variables, allow_partial=True)
        repo = call.data.get("repository")
        if repo is None:
            raise GraphQLQueryError(
                f"Repository {full_name} is gone or no longer visible to this token.",
                errors=call.errors,
                title="Repository not found",
            )
        page = _page(repo.get("deployments"), Deployment, "deployment", full_name)
        for dep in page.items:
            statuses = dep.statuses
            if statuses and statuses.page_info and statuses.page_info.has_next_page:
                more, bad = self._rest_of(
                    queries.DEPLOYMENT_STATUSES_PAGE, dep.id, "statuses",
                    statuses.page_info.end_cursor, DeploymentStatus, "deployment_status",
                    sizes.nested,
                )  # fmt: skip
                statuses.nodes.extend(more)
                statuses.page_info.has_next_page = False
                page.rejected.extend(bad)
        return page

    def iter_workflow_runs(
        self, full_name: str, *, branch: str | None = None, per_page: int = 100
    ) -> Iterator[tuple[list[WorkflowRun], list[Rejected]]]:
        """``GET /repos/{owner}/{repo}/actions/runs`` newest first, page by page (Link header).

        https://docs.github.com/rest/actions/workflow-runs#list-workflow-runs-for-a-repository
        """
        path: str | None = f"{self.rest_prefix}/repos/{full_name}/actions/runs"
        params: dict[str, Any] | None = {"per_page": per_page, "status": "completed"}
        if branch:
            assert params is not None
            params["branch"] = branch
        while path is not None:
            response = self._rest_http().request("GET", path, params=params)
            body = decode_json(response)
            if not isinstance(body, dict):
                raise BadPayload("workflow runs: not an object", raw=str(body), url=path)
            good, bad = validate_each(
                WorkflowRun, body.get("workflow_runs"), kind="workflow_run", source=path
            )
            yield good, bad
            path, params = _next_link(response), None

    def _rest_http(self) -> HttpClient:
        token = self.pool.choose(0, self.clock.now()) or self.pool.tokens[0]
        return token.handle


# -- helpers -------------------------------------------------------------------------------

_VIEWER = TypeAdapter(Viewer)
_REPOSITORY = TypeAdapter(Repository)
_SEARCH = TypeAdapter(RepositorySearch)
_ = WorkflowRunPage  # documented shape; runs are validated one by one


def _rate_limit(data: Any) -> RateLimit | None:
    if not isinstance(data, dict) or not isinstance(data.get("rateLimit"), dict):
        return None
    try:
        return RateLimit.model_validate(data["rateLimit"])
    except ValueError:
        return None


def _page(connection: Any, model: type[M], kind: str, source: str) -> Page:
    if not isinstance(connection, dict):
        raise BadPayload(
            f"{source}: expected a {kind} connection, got {type(connection).__name__}.",
            raw=str(connection),
            url=source,
        )
    nodes = [n for n in connection.get("nodes") or [] if n is not None]
    good, bad = validate_each(model, nodes, kind=kind, source=source)
    info = connection.get("pageInfo") or {}
    return Page(
        items=good,
        rejected=bad,
        has_next=bool(info.get("hasNextPage")),
        end_cursor=info.get("endCursor"),
        total=connection.get("totalCount"),
    )


def _is_secondary(exc: HttpStatusError) -> bool:
    return any(_SECONDARY.search(m) for m in exc.server_messages)


def _next_link(response: httpx.Response) -> str | None:
    m = _LINK_NEXT.search(response.headers.get("link", ""))
    return m.group(1) if m else None
