"""The typed Azure DevOps client (Services and Server, REST api-version 7.1).

Every call goes through the shared :class:`HttpClient` (auth, retries, 429/``Retry-After``,
cancellation, redaction). Azure DevOps specifics handled here:

- PAT auth is HTTP Basic with an empty user name (``:PAT``).
  https://learn.microsoft.com/azure/devops/organizations/accounts/use-personal-access-tokens-to-authenticate#use-a-pat
- A bad or expired PAT is often answered ``203 Non-Authoritative Information`` with the HTML
  sign-in page rather than 401; that is an authentication failure, said as one.
- Throttling (https://learn.microsoft.com/azure/devops/integrate/concepts/rate-limits): a
  delayed request still answers 200 with ``X-RateLimit-Delay``/``-Remaining``/``-Reset``;
  a ``Retry-After`` on a 200 asks the client to slow down, so we wait before the next call;
  a blocked one is 429 ``TF400733`` with ``Retry-After`` (handled by the shared stack). The
  limit is per user ("Azure DevOps limits the resources each user can consume"; delays when
  "Their personal usage exceeds 200 times the consumption of a typical user within a sliding
  five-minute window", the page above), so every chain of requests of one identity shares
  one rate gate (`ado_gate`): a 429 or a Retry-After seen by one pauses them all until the
  time named.
- Paging is per API: ``x-ms-continuationtoken`` header → ``continuationToken`` parameter
  (projects, builds, release deployments, environment records), ``nextLink`` +
  ``isLastBatch`` (reporting revisions), ``$top``/``$skip`` (pull requests, commits).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

import httpx
from pydantic import BaseModel, TypeAdapter

from connectors.azure_devops.models import (
    Build,
    DeletedWorkItemRef,
    Environment,
    EnvironmentDeploymentRecord,
    GitCommit,
    GitRepository,
    PullRequest,
    ReleaseDeployment,
    TeamProject,
    Thread,
    WiqlResult,
    WorkItem,
    WorkItemField,
    WorkItemReference,
    WorkItemRevision,
    WorkItemType,
    format_ado_datetime,
)
from connectors.azure_devops.urls import normalize_base_url, release_base_url
from connectors.base import ConnectionCheck
from connectors.closing import Closing
from connectors.errors import AuthError, BadPayload, ConnectorError, RequestRejected
from connectors.http import (
    BasicAuth,
    CancelCheck,
    HttpClient,
    HttpCounters,
    Observer,
    RateLimitInfo,
    Secret,
    decode_json,
    parse_rate_limit,
)
from connectors.http.gate import RateGate, gate_for
from connectors.validation import Rejected, validate_each, validate_whole

log = logging.getLogger("connectors.azure_devops")

API_VERSION = "7.1"
# The environments API (distributedtask) is still a preview in 7.1; a preview resource asked
# for without the "-preview" flag answers 400 (src/TaskAgent/TaskAgentClient.ts in
# github.com/microsoft/azure-devops-extension-api asks for "7.1-preview.1").
ENVIRONMENTS_API_VERSION = "7.1-preview.1"
WIQL_LIMIT = 20_000  # [ADO-LIM] query results; more → HTTP 400 VS402337
WIQL_TOO_MANY = "VS402337"
BATCH_LIMIT = 200  # workitemsbatch: "Maximum 200" ids per call [ADO-OAS]
CONTINUATION_HEADER = "x-ms-continuationtoken"

M = TypeVar("M", bound=BaseModel)


class WiqlTooManyResults(RequestRejected):
    """WIQL refused the query because it matches more than 20,000 work items."""


@dataclass
class Page(Generic[M]):
    """One page of a list: validated items, rejected raw ones, and the next position."""

    items: list[M]
    rejected: list[Rejected] = field(default_factory=list)
    continuation: str | None = None
    is_last: bool = True


@dataclass(frozen=True)
class ThrottleState:
    """The TSTU budget as the latest response described it (for progress and health)."""

    remaining: int | None = None
    limit: int | None = None
    reset_at: datetime | None = None
    resource: str | None = None
    delayed_responses: int = 0
    delay_seconds: float = 0.0


ADO_MAX_IN_FLIGHT = 8
"""Requests one identity sends at once. Azure DevOps documents no concurrency limit; its
limit is TSTUs (the module docstring), which concurrency only spends faster."""


def ado_gate(base_url: str, identity: str) -> RateGate:
    """The process's one rate gate of ``identity`` (an integration) on the organization or
    collection at ``base_url``."""
    base = normalize_base_url(base_url)
    return gate_for("azure_devops", base, identity, make=lambda: RateGate(ADO_MAX_IN_FLIGHT))


class AzureDevOpsClient(Closing):
    """Reads one Azure DevOps organization (Services) or collection (Server).

    One per job; its calls may come from several threads at once (a sync's windows). Build
    it with :meth:`create`.
    """

    source = "azure_devops"

    def __init__(self, http: HttpClient, release_http: HttpClient | None = None) -> None:
        self.http = http
        self.release_http = release_http or http
        self._delayed = 0
        self._delay_seconds = 0.0
        self._last: RateLimitInfo | None = None
        self._lock = threading.Lock()  # the throttle figures, updated by every window

    @classmethod
    def create(cls, base_url: str, token: Secret, **options: Any) -> AzureDevOpsClient:
        """``base_url``: ``https://dev.azure.com/ORG`` or ``https://HOST/tfs/COLLECTION``.

        ``options``: transport, clock, cancel, observer, retry, rate_limit, budget, timeout,
        gate (the identity's shared `RateGate`, e.g. `ado_gate`).
        """
        base = normalize_base_url(base_url)
        auth = BasicAuth("", token)  # PAT: Basic with an empty user name
        http = HttpClient.from_options(base, cls.source, auth, options)
        release = release_base_url(base)
        release_http = (
            http if release == base else HttpClient.from_options(release, cls.source, auth, options)
        )
        return cls(http, release_http)

    # -- Connector protocol ----------------------------------------------------------------

    def counters(self) -> HttpCounters:
        if self.release_http is self.http:
            return self.http.counters()
        return self.http.counters() + self.release_http.counters()

    def set_observer(self, observer: Observer | None) -> None:
        self.http.observer = observer
        self.release_http.observer = observer

    def set_cancel(self, cancel: CancelCheck | None) -> None:
        self.http.cancel = cancel
        self.release_http.cancel = cancel

    def close(self) -> None:
        self.http.close()
        if self.release_http is not self.http:
            self.release_http.close()

    def __repr__(self) -> str:
        return f"AzureDevOpsClient({self.http.config.base_url!r})"

    def throttle(self) -> ThrottleState:
        with self._lock:
            last, delayed, seconds = self._last, self._delayed, self._delay_seconds
        return ThrottleState(
            remaining=last.remaining if last else None,
            limit=last.limit if last else None,
            reset_at=last.reset_at if last else None,
            resource=last.reason if last else None,
            delayed_responses=delayed,
            delay_seconds=round(seconds, 3),
        )

    def test_connection(self) -> ConnectionCheck:
        """One cheap call: the first visible project. Expected failures become text.

        https://learn.microsoft.com/rest/api/azure/devops/core/projects/list?view=azure-devops-rest-7.1
        """
        try:
            page = self.projects_page(top=1)
        except ConnectorError as exc:
            return ConnectionCheck(ok=False, title=exc.title, message=exc.message)
        where = self.http.config.base_url
        seen = f"first project {page.items[0].name!r}" if page.items else "no projects visible"
        return ConnectionCheck(
            ok=True,
            title="Connected",
            message=f"Connected to Azure DevOps at {where} ({seen}).",
            server=where,
        )

    # -- the request wrapper ---------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: Any = None,
        release: bool = False,
        version: str = API_VERSION,
    ) -> tuple[Any, httpx.Headers]:
        http = self.release_http if release else self.http
        query = {"api-version": version, **(params or {})}
        try:
            response = http.request(
                method, path, params=query, json=body, retry_safe=True if body is not None else None
            )
        except RequestRejected as exc:
            if exc.status == 400 and any(WIQL_TOO_MANY in m for m in exc.server_messages):
                raise WiqlTooManyResults(
                    f"{method} {path}: more than {WIQL_LIMIT} work items match; the window "
                    "must be split.",
                    status=400,
                    method=method,
                    path=path,
                    server_messages=exc.server_messages,
                ) from None
            raise
        self._after(http, response, method, path)
        return decode_json(response), response.headers

    def _after(self, http: HttpClient, response: httpx.Response, method: str, path: str) -> None:
        content_type = response.headers.get("content-type", "")
        if response.status_code == 203 or "text/html" in content_type:
            # The sign-in page instead of data: the PAT was not accepted.
            raise AuthError(
                f"Azure DevOps answered {method} {path} with its sign-in page "
                f"(HTTP {response.status_code}): the personal access token was not accepted. "
                "Check that it is valid, not expired, and has read scopes for Work Items, "
                "Code, Build and Release.",
                status=response.status_code,
                method=method,
                path=path,
            )
        now = http.clock.now()
        info = parse_rate_limit(response.headers, now)  # this answer's (other windows' differ)
        delay = _float_header(response.headers, "X-RateLimit-Delay")
        with self._lock:
            if info.remaining is not None or info.limit is not None:
                self._last = info  # the budget as last reported (most answers say nothing)
            if delay:
                self._delayed += 1
                self._delay_seconds += delay
        if info.retry_after:
            # Near the limit: Retry-After on a successful answer asks us to slow down, and
            # every other chain of the identity too (not a refusal: not counted as a 429).
            if http.gate is not None:
                http.gate.back_off(now + timedelta(seconds=info.retry_after), limited=False)
            http.wait_for_rate_limit(
                now + timedelta(seconds=info.retry_after),
                info.retry_after,
                info.reason or "Azure DevOps throttling",
                method,
                path,
            )

    def _page(
        self,
        model: type[M],
        path: str,
        *,
        params: dict[str, Any] | None = None,
        kind: str,
        release: bool = False,
        version: str = API_VERSION,
    ) -> Page[M]:
        data, headers = self._call("GET", path, params=params, release=release, version=version)
        values = _values(data, path)
        items, rejected = validate_each(model, values, kind=kind, source=path)
        token = headers.get(CONTINUATION_HEADER) or None
        return Page(items, rejected, token, token is None)

    # -- core ------------------------------------------------------------------------------

    def projects_page(
        self, *, top: int = 100, continuation: str | None = None
    ) -> Page[TeamProject]:
        """GET _apis/projects — continuation by ``x-ms-continuationtoken``.

        https://learn.microsoft.com/rest/api/azure/devops/core/projects/list?view=azure-devops-rest-7.1
        """
        params = {"$top": top, "continuationToken": continuation, "stateFilter": "wellFormed"}
        return self._page(TeamProject, "/_apis/projects", params=params, kind="project")

    def projects(self) -> list[TeamProject]:
        out: list[TeamProject] = []
        token: str | None = None
        while True:
            page = self.projects_page(continuation=token)
            out.extend(page.items)
            if page.continuation is None:
                return out
            token = page.continuation

    # -- work item tracking ----------------------------------------------------------------

    def work_item_types(self, project: str) -> list[WorkItemType]:
        """GET {project}/_apis/wit/workitemtypes — each type with its states and categories.

        https://learn.microsoft.com/rest/api/azure/devops/wit/work-item-types/list?view=azure-devops-rest-7.1
        """
        path = f"/{_seg(project)}/_apis/wit/workitemtypes"
        data, _ = self._call("GET", path)
        return validate_whole(_TYPES, _values(data, path), what="work item types", source=path)

    def fields(self) -> list[WorkItemField]:
        """GET _apis/wit/fields — every field of the organization (custom ones included),
        so custom fields are stored by their display name.

        https://learn.microsoft.com/rest/api/azure/devops/wit/fields/list?view=azure-devops-rest-7.1
        """
        data, _ = self._call("GET", "/_apis/wit/fields")
        return validate_whole(_FIELDS, _values(data, "fields"), what="fields", source="fields")

    def wiql(self, project: str, query: str, *, top: int | None = None) -> WiqlResult:
        """POST {project}/_apis/wit/wiql?timePrecision=true — ids only, at most 20,000 or
        HTTP 400 VS402337 (:class:`WiqlTooManyResults`); ``$top`` truncates instead.

        https://learn.microsoft.com/rest/api/azure/devops/wit/wiql/query-by-wiql?view=azure-devops-rest-7.1
        https://learn.microsoft.com/azure/devops/organizations/settings/work/object-limits
        """
        path = f"/{_seg(project)}/_apis/wit/wiql"
        params: dict[str, Any] = {"timePrecision": "true", "$top": top}
        data, _ = self._call("POST", path, params=params, body={"query": query})
        return validate_whole(_WIQL, data, what="a WIQL result", source=path)

    def changed_ids(
        self, project: str, since: datetime | None, until: datetime | None
    ) -> tuple[list[int], datetime | None]:
        """Ids of ``project``'s work items with ``since <= ChangedDate < until``, oldest
        change first, and the service's ``asOf`` time. Date literals are ISO-8601 UTC with
        milliseconds, compared to the millisecond under ``timePrecision=true`` (the literal
        format is UNVERIFIED against the live service: the WIQL docs show local-format
        dates; ISO is what the REST clients we know send)."""
        clauses = ["[System.TeamProject] = @project"]
        if since is not None:
            clauses.append(f"[System.ChangedDate] >= '{format_ado_datetime(since)}'")
        if until is not None:
            clauses.append(f"[System.ChangedDate] < '{format_ado_datetime(until)}'")
        query = (
            "SELECT [System.Id] FROM WorkItems WHERE "
            + " AND ".join(clauses)
            + " ORDER BY [System.ChangedDate] ASC, [System.Id] ASC"
        )
        result = self.wiql(project, query)
        return [w.id for w in result.work_items], result.as_of

    def server_time(self, project: str) -> datetime | None:
        """The service's clock (``asOf`` of a one-row WIQL), to bound date windows."""
        return self.wiql(project, "SELECT [System.Id] FROM WorkItems", top=1).as_of

    def work_items(self, ids: Sequence[int]) -> Page[WorkItem]:
        """POST _apis/wit/workitemsbatch (at most 200 ids, relations expanded, missing or
        deleted ids omitted as ``null``). Chunks longer lists.

        https://learn.microsoft.com/rest/api/azure/devops/wit/work-items/get-work-items-batch?view=azure-devops-rest-7.1
        """
        page: Page[WorkItem] = Page([])
        for start in range(0, len(ids), BATCH_LIMIT):
            chunk = list(ids[start : start + BATCH_LIMIT])
            body = {"ids": chunk, "$expand": "Relations", "errorPolicy": "Omit"}
            data, _ = self._call("POST", "/_apis/wit/workitemsbatch", body=body)
            values = [v for v in _values(data, "workitemsbatch") if v is not None]
            items, rejected = validate_each(WorkItem, values, kind="work item", source="batch")
            page.items.extend(items)
            page.rejected.extend(rejected)
        return page

    def revisions_page(
        self, continuation: str | None, fields: Sequence[str], *, page_size: int = 1000
    ) -> Page[WorkItemRevision]:
        """GET _apis/wit/reporting/workitemrevisions — every revision of every work item in
        change order; ``nextLink`` carries the next ``continuationToken`` (the watermark to
        keep), ``isLastBatch`` says the feed is drained for now.

        https://learn.microsoft.com/rest/api/azure/devops/wit/reporting-work-item-revisions/read-reporting-revisions-get?view=azure-devops-rest-7.1
        """
        path = "/_apis/wit/reporting/workitemrevisions"
        params = {
            "fields": ",".join(fields),
            "continuationToken": continuation,
            "$maxPageSize": page_size,
            "includeIdentityRef": "true",
        }
        data, _ = self._call("GET", path, params=params)
        if not isinstance(data, dict):
            data = {}
        items, rejected = validate_each(
            WorkItemRevision, data.get("values") or [], kind="revision", source=path
        )
        token = _continuation_from_link(data.get("nextLink")) or continuation
        return Page(items, rejected, token, bool(data.get("isLastBatch", True)))

    def recycle_bin(self, project: str) -> list[int]:
        """GET {project}/_apis/wit/recyclebin — ids of deleted work items.

        https://learn.microsoft.com/rest/api/azure/devops/wit/recycle-bin/get-deleted-work-item-shallow-references?view=azure-devops-rest-7.1
        """
        path = f"/{_seg(project)}/_apis/wit/recyclebin"
        data, _ = self._call("GET", path)
        refs = validate_whole(_DELETED, _values(data, path), what="deleted items", source=path)
        return [r.id for r in refs]

    # -- git -------------------------------------------------------------------------------

    def repositories(self, project: str) -> list[GitRepository]:
        """GET {project}/_apis/git/repositories.

        https://learn.microsoft.com/rest/api/azure/devops/git/repositories/list?view=azure-devops-rest-7.1
        """
        path = f"/{_seg(project)}/_apis/git/repositories"
        data, _ = self._call("GET", path)
        return validate_whole(_REPOS, _values(data, path), what="repositories", source=path)

    def pull_requests(
        self,
        project: str,
        repository_id: str,
        *,
        status: str = "all",
        min_time: datetime | None = None,
        time_range: str | None = None,
        top: int = 100,
        skip: int = 0,
    ) -> Iterator[Page[PullRequest]]:
        """GET {project}/_apis/git/repositories/{id}/pullrequests — ``$top``/``$skip`` paging,
        newest first (order UNVERIFIED; the sync tolerates any stable order);
        ``searchCriteria.minTime`` with ``queryTimeRangeType`` Created or Closed for
        incremental reads.

        https://learn.microsoft.com/rest/api/azure/devops/git/pull-requests/get-pull-requests?view=azure-devops-rest-7.1
        """
        path = f"/{_seg(project)}/_apis/git/repositories/{repository_id}/pullrequests"
        while True:
            params: dict[str, Any] = {
                "searchCriteria.status": status,
                "searchCriteria.minTime": format_ado_datetime(min_time) if min_time else None,
                "searchCriteria.queryTimeRangeType": time_range if min_time else None,
                "$top": top,
                "$skip": skip,
            }
            page = self._page(PullRequest, path, params=params, kind="pull request")
            size = len(page.items) + len(page.rejected)
            page.is_last = size < top
            yield page
            if page.is_last:
                return
            skip += size

    def threads(self, project: str, repository_id: str, pr: int) -> Page[Thread]:
        """GET …/pullRequests/{id}/threads — every thread with its comments (one call).

        https://learn.microsoft.com/rest/api/azure/devops/git/pull-request-threads/list?view=azure-devops-rest-7.1
        """
        path = f"/{_seg(project)}/_apis/git/repositories/{repository_id}/pullRequests/{pr}/threads"
        return self._page(Thread, path, kind="thread")

    def pull_request_commits(self, project: str, repository_id: str, pr: int) -> list[GitCommit]:
        """GET …/pullRequests/{id}/commits — ``$top`` + ``x-ms-continuationtoken``.

        https://learn.microsoft.com/rest/api/azure/devops/git/pull-request-commits/get-pull-request-commits?view=azure-devops-rest-7.1
        """
        path = f"/{_seg(project)}/_apis/git/repositories/{repository_id}/pullRequests/{pr}/commits"
        out: list[GitCommit] = []
        token: str | None = None
        while True:
            page = self._page(
                GitCommit, path, params={"$top": 100, "continuationToken": token}, kind="commit"
            )
            out.extend(page.items)
            if page.continuation is None:
                return out
            token = page.continuation

    def pull_request_work_items(self, project: str, repository_id: str, pr: int) -> list[int]:
        """GET …/pullRequests/{id}/workitems — ids of the linked work items.

        https://learn.microsoft.com/rest/api/azure/devops/git/pull-request-work-items/list?view=azure-devops-rest-7.1
        """
        path = (
            f"/{_seg(project)}/_apis/git/repositories/{repository_id}/pullRequests/{pr}/workitems"
        )
        data, _ = self._call("GET", path)
        refs = validate_whole(_REFS, _values(data, path), what="work item refs", source=path)
        return [r.id for r in refs]

    # -- build -----------------------------------------------------------------------------

    def builds_page(
        self,
        project: str,
        *,
        min_time: datetime | None = None,
        build_ids: Sequence[int] = (),
        continuation: str | None = None,
        top: int = 200,
    ) -> Page[Build]:
        """GET {project}/_apis/build/builds — ``queryOrder=queueTimeAscending`` with
        ``minTime`` (queued at or after), or ``buildIds`` to re-read running ones;
        continuation by ``x-ms-continuationtoken``.

        https://learn.microsoft.com/rest/api/azure/devops/build/builds/list?view=azure-devops-rest-7.1
        """
        path = f"/{_seg(project)}/_apis/build/builds"
        params: dict[str, Any] = {
            "queryOrder": "queueTimeAscending",
            "minTime": format_ado_datetime(min_time) if min_time else None,
            "buildIds": ",".join(map(str, build_ids)) or None,
            "continuationToken": continuation,
            "$top": top,
        }
        return self._page(Build, path, params=params, kind="build")

    # -- release (vsrm) --------------------------------------------------------------------

    def release_deployments_page(
        self,
        project: str,
        *,
        min_modified: datetime | None = None,
        continuation: str | None = None,
        top: int = 100,
    ) -> Page[ReleaseDeployment]:
        """GET vsrm {project}/_apis/release/deployments — ``queryOrder=ascending``,
        ``minModifiedTime`` for increments (so finished-since deployments come again),
        ``continuationToken`` from the ``x-ms-continuationtoken`` header.

        https://learn.microsoft.com/rest/api/azure/devops/release/deployments/list?view=azure-devops-rest-7.1
        """
        path = f"/{_seg(project)}/_apis/release/deployments"
        params: dict[str, Any] = {
            "queryOrder": "ascending",
            "minModifiedTime": format_ado_datetime(min_modified) if min_modified else None,
            "continuationToken": continuation,
            "$top": top,
        }
        return self._page(
            ReleaseDeployment, path, params=params, kind="release deployment", release=True
        )

    # -- environments (YAML pipelines) -----------------------------------------------------

    def environments(self, project: str) -> list[Environment]:
        """GET {project}/_apis/distributedtask/environments.

        https://learn.microsoft.com/rest/api/azure/devops/distributedtask/environments/list?view=azure-devops-rest-7.1
        """
        path = f"/{_seg(project)}/_apis/distributedtask/environments"
        out: list[Environment] = []
        token: str | None = None
        while True:
            page = self._page(
                Environment,
                path,
                params={"continuationToken": token},
                kind="environment",
                version=ENVIRONMENTS_API_VERSION,
            )
            out.extend(page.items)
            if page.continuation is None:
                return out
            token = page.continuation

    def environment_records_page(
        self, project: str, environment_id: int, *, continuation: str | None = None, top: int = 100
    ) -> Page[EnvironmentDeploymentRecord]:
        """GET {project}/_apis/distributedtask/environments/{id}/environmentdeploymentrecords
        — newest first (UNVERIFIED order), continuation by ``x-ms-continuationtoken``.

        https://learn.microsoft.com/rest/api/azure/devops/distributedtask/environmentdeployment-records/list?view=azure-devops-rest-7.1
        """
        path = (
            f"/{_seg(project)}/_apis/distributedtask/environments/{environment_id}"
            "/environmentdeploymentrecords"
        )
        params = {"continuationToken": continuation, "top": top}
        return self._page(
            EnvironmentDeploymentRecord,
            path,
            params=params,
            kind="environment deployment",
            version=ENVIRONMENTS_API_VERSION,
        )


# -- helpers -----------------------------------------------------------------------------------

_TYPES = TypeAdapter(list[WorkItemType])
_FIELDS = TypeAdapter(list[WorkItemField])
_WIQL = TypeAdapter(WiqlResult)
_DELETED = TypeAdapter(list[DeletedWorkItemRef])
_REPOS = TypeAdapter(list[GitRepository])
_REFS = TypeAdapter(list[WorkItemReference])


def _seg(name: str) -> str:
    """A project name as one path segment (names may hold spaces)."""
    return httpx.URL("/" + name).raw_path.decode("ascii").lstrip("/").replace("/", "%2F")


def _values(data: Any, path: str) -> list[Any]:
    """The ``value`` list of a ``{"count": n, "value": [...]}`` envelope."""
    if isinstance(data, dict) and isinstance(data.get("value"), list):
        return list(data["value"])
    raise BadPayload(
        f"{path} returned a response without 'value'; the API may have changed.",
        raw=str(data)[:2000],
        url=path,
    )


def _continuation_from_link(link: Any) -> str | None:
    if not isinstance(link, str) or not link:
        return None
    value = httpx.URL(link).params.get("continuationToken")
    return value or None


def _float_header(headers: httpx.Headers, name: str) -> float | None:
    try:
        value = headers.get(name)
        return float(value) if value is not None else None
    except ValueError:
        return None
