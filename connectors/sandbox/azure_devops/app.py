"""Azure DevOps REST 7.1 simulator: ``AzureDevOpsSimulator(org).handle`` is an httpx handler.

Serves one organisation (``/{org}/…``, Server-style: the release API on the same base URL).
Each route cites the reference it follows; behaviour the references leave open is marked
UNVERIFIED. PAT auth: Basic with any user name and the demo PAT; a wrong PAT gets the
``203`` + HTML sign-in page the service sends, no credentials at all a 401.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from typing import Any

import httpx

from connectors.sandbox.azure_devops import render
from connectors.sandbox.azure_devops.model import PRODUCTION, AdoOrg
from connectors.sandbox.azure_devops.throttle import TstuPolicy, TstuThrottle
from connectors.sandbox.azure_devops.wiql import WiqlError, parse_wiql
from connectors.sandbox.faults import FaultInjector, FaultScenario
from connectors.sandbox.http_app import json_body, json_response, site_base
from connectors.sandbox.ratelimit import Decision

WIQL_LIMIT = 20_000
BATCH_LIMIT = 200
# Resources that are still a preview in 7.1 (the distributedtask environments API).
PREVIEW_ROUTES = frozenset({"environments", "environment_records"})
REVISIONS_DEFAULT_PAGE = 200  # UNVERIFIED default of $maxPageSize
REVISIONS_MAX_PAGE = 1000  # UNVERIFIED cap
PR_DEFAULT_TOP = 101  # UNVERIFIED default page of the pull request list
# TSTU cost of a call (the service weighs by server CPU/DB time; UNVERIFIED figures).
COSTS = {"wiql": 5, "workitemsbatch": 3, "workitemrevisions": 3}
SIGN_IN_PAGE = (
    "<!DOCTYPE html><html><head><title>Azure DevOps Services | Sign In</title></head>"
    "<body>Sign in to your account</body></html>"
)


class _Error(Exception):
    def __init__(self, status: int, message: str, type_key: str = "InvalidArgumentValueException"):
        super().__init__(message)
        self.status = status
        self.message = message
        self.type_key = type_key


def error_body(status: int, message: str, type_key: str) -> httpx.Response:
    """The service's error shape: ``{"$id", "innerException", "message", "typeName", …}``."""
    return json_response(
        status,
        {
            "$id": "1",
            "innerException": None,
            "message": message,
            "typeName": f"Microsoft.VisualStudio.Services.{type_key}, Microsoft.VisualStudio",
            "typeKey": type_key,
            "errorCode": 0,
            "eventId": 3000,
        },
    )


_P = r"/(?P<project>[^/]+)"
_R = r"/_apis/git/repositories/(?P<repo>[^/]+)"


class AzureDevOpsSimulator:
    def __init__(
        self,
        org: AdoOrg,
        pat: str,
        faults: FaultScenario | FaultInjector | None = None,
        *,
        throttle: TstuPolicy | None = None,
        wiql_limit: int = WIQL_LIMIT,
    ) -> None:
        self.org = org
        self.pat = pat
        self.faults = faults if isinstance(faults, FaultInjector) else FaultInjector(faults)
        self.throttle = TstuThrottle(throttle) if throttle else None
        self.wiql_limit = wiql_limit
        self.calls: dict[str, int] = {}
        routes: list[tuple[str, str, Callable[..., httpx.Response]]] = [
            ("GET", r"/_apis/projects", self.projects),
            ("GET", _P + r"/_apis/wit/workitemtypes", self.work_item_types),
            ("GET", r"/_apis/wit/fields", self.fields),
            ("POST", _P + r"/_apis/wit/wiql", self.wiql),
            ("POST", r"(?:/[^/]+)?/_apis/wit/workitemsbatch", self.workitemsbatch),
            ("GET", r"(?:/[^/]+)?/_apis/wit/reporting/workitemrevisions", self.revisions),
            ("GET", _P + r"/_apis/wit/recyclebin", self.recycle_bin),
            ("GET", _P + r"/_apis/git/repositories", self.repositories),
            ("GET", _P + _R + r"/pullrequests", self.pull_requests),
            ("GET", _P + _R + r"/pullRequests/(?P<pr>\d+)/threads", self.threads),
            ("GET", _P + _R + r"/pullRequests/(?P<pr>\d+)/commits", self.commits),
            ("GET", _P + _R + r"/pullRequests/(?P<pr>\d+)/workitems", self.pr_work_items),
            ("GET", _P + r"/_apis/build/builds", self.builds),
            ("GET", _P + r"/_apis/release/deployments", self.release_deployments),
            ("GET", _P + r"/_apis/distributedtask/environments", self.environments),
            (
                "GET",
                _P
                + r"/_apis/distributedtask/environments/(?P<env>\d+)/environmentdeploymentrecords",
                self.environment_records,
            ),
        ]
        self._routes = [(m, re.compile(p + "$", re.IGNORECASE), h) for m, p, h in routes]

    # ------------------------------------------------------------------ plumbing
    def handle(self, request: httpx.Request) -> httpx.Response:
        return self.faults.run(request, self._route, _rate_limited, _server_error)

    def _route(self, request: httpx.Request) -> httpx.Response:
        header = request.headers.get("authorization")
        if not header:
            return httpx.Response(401, headers={"www-authenticate": 'Basic realm=""'})
        if not self._authenticated(header):
            return httpx.Response(
                203, content=SIGN_IN_PAGE.encode(), headers={"content-type": "text/html"}
            )
        segments = request.url.path.split("/", 2)
        if len(segments) < 3 or segments[1].lower() != self.org.name.lower():
            return error_body(
                404,
                "VS800075: The project with id 'x' does not exist.",
                "ProjectDoesNotExistException",
            )
        path = "/" + segments[2]
        if request.url.params.get("api-version") is None:
            return error_body(
                400, "VSS000000: No api-version was supplied.", "VssVersionNotSpecifiedException"
            )
        for method, pattern, handler in self._routes:
            m = pattern.match(path)
            if m and method == request.method:
                name = handler.__name__
                version = request.url.params.get("api-version", "")
                if name in PREVIEW_ROUTES and "-preview" not in version:
                    return error_body(
                        400,
                        f"VS800007: The requested version '{version}' of the resource is "
                        "under preview. The -preview flag must be supplied in the api-version "
                        "for such requests. For example: '7.1-preview'",
                        "VssInvalidPreviewVersionException",
                    )
                self.calls[name] = self.calls.get(name, 0) + 1
                extra: dict[str, str] = {}
                if self.throttle is not None:
                    verdict = self.throttle.charge(COSTS.get(path.rsplit("/", 1)[-1].lower(), 1))
                    if verdict.blocked:
                        return _blocked(verdict.headers)
                    extra = verdict.headers
                try:
                    response = handler(request, **m.groupdict())
                except _Error as exc:
                    return error_body(exc.status, exc.message, exc.type_key)
                response.headers.update(extra)
                return response
        return error_body(404, f"API resource {path} not found", "ApiResourceNotFoundException")

    def _authenticated(self, header: str) -> bool:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            _, _, token = base64.b64decode(value).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return token == self.pat

    def _base(self, request: httpx.Request) -> str:
        return f"{site_base(request)}/{self.org.name}"

    def _project(self, name: str) -> Any:
        p = self.org.project_by_name(httpx.URL("/" + name).path.lstrip("/"))
        if p is None:
            raise _Error(
                404,
                f"VS800075: The project with id '{name}' does not exist, or you do not have "
                "permission to access it.",
                "ProjectDoesNotExistException",
            )
        return p

    def _repo(self, project: Any, rid: str) -> Any:
        repo = self.org.repo_by_id(rid)
        if repo is None or repo.project != project.index:
            raise _Error(
                404,
                f"TF401019: The Git repository with name or identifier {rid} "
                "does not exist or you do not have permissions.",
                "GitRepositoryNotFoundException",
            )
        return repo

    # ------------------------------------------------------------------ core + wit
    def projects(self, request: httpx.Request) -> httpx.Response:
        """GET _apis/projects — $top, continuationToken (header x-ms-continuationtoken)."""
        params = request.url.params
        start = int(params.get("continuationToken") or 0)
        top = int(params.get("$top") or 100)
        chosen = self.org.projects[start : start + top]
        base = self._base(request)
        body = {
            "count": len(chosen),
            "value": [render.project(self.org, base, p.index) for p in chosen],
        }
        headers = {}
        if start + top < len(self.org.projects):
            headers["x-ms-continuationtoken"] = str(start + top)
        return json_response(200, body, headers)

    def work_item_types(self, request: httpx.Request, project: str) -> httpx.Response:
        """GET {project}/_apis/wit/workitemtypes (7.1: with states and their categories)."""
        p = self._project(project)
        value = render.work_item_types(self._base(request), p.name)
        return json_response(200, {"count": len(value), "value": value})

    def fields(self, request: httpx.Request) -> httpx.Response:
        """GET _apis/wit/fields — the fields work items carry (names as the Agile process's)."""
        value = render.fields(self._base(request))
        return json_response(200, {"count": len(value), "value": value})

    def wiql(self, request: httpx.Request, project: str) -> httpx.Response:
        """POST {project}/_apis/wit/wiql — flat query, ids only; over ``wiql_limit`` matches
        → 400 VS402337 (ADO-LIM); ``$top`` truncates instead."""
        p = self._project(project)
        try:
            query = parse_wiql(str(json_body(request).get("query", "")), p.name)
        except (WiqlError, ValueError) as exc:
            raise _Error(
                400, f"TF51005: The query references a field that does not exist. {exc}"
            ) from None
        with self.org.lock:
            ids = query.run(self.org)
        top = request.url.params.get("$top")
        if top is not None:
            ids = ids[: int(top)]
        elif len(ids) > self.wiql_limit:
            raise _Error(
                400,
                f"VS402337: The number of work items returned exceeds the size limit of "
                f"{self.wiql_limit}. Change the query to return fewer work items.",
                "WorkItemTrackingQueryResultSizeLimitExceededException",
            )
        base = self._base(request)
        return json_response(
            200,
            {
                "queryType": "flat",
                "queryResultType": "workItem",
                "asOf": render.ado_time(self.org.now_ms),
                "columns": [
                    {
                        "referenceName": "System.Id",
                        "name": "ID",
                        "url": f"{base}/_apis/wit/fields/System.Id",
                    }
                ],
                "sortColumns": [],
                "workItems": [{"id": i, "url": f"{base}/_apis/wit/workItems/{i}"} for i in ids],
            },
        )

    def workitemsbatch(self, request: httpx.Request) -> httpx.Response:
        """POST _apis/wit/workitemsbatch — at most 200 ids; errorPolicy Omit → null for ids
        that do not exist or were deleted."""
        body = json_body(request)
        ids = body.get("ids") or []
        if len(ids) > BATCH_LIMIT:
            raise _Error(
                400, f"VS402335: The maximum number of work items in a batch is {BATCH_LIMIT}."
            )
        omit = str(body.get("errorPolicy", "fail")).lower() == "omit"
        base = self._base(request)
        value: list[Any] = []
        with self.org.lock:
            for wid in ids:
                item = self.org.items.get(int(wid))
                if item is None or item.deleted:
                    if not omit:
                        raise _Error(404, f"TF401232: Work item {wid} does not exist.")
                    value.append(None)
                    continue
                value.append(render.work_item(self.org, base, item))
        return json_response(200, {"count": len(value), "value": value})

    def revisions(self, request: httpx.Request) -> httpx.Response:
        """GET _apis/wit/reporting/workitemrevisions — the revision feed in change order;
        ``continuationToken`` is the position (a watermark), ``nextLink`` carries the next
        one and ``isLastBatch`` says the feed is drained (API_NOTES §3.3)."""
        params = request.url.params
        start = int(params.get("continuationToken") or 0)
        size = min(int(params.get("$maxPageSize") or REVISIONS_DEFAULT_PAGE), REVISIONS_MAX_PAGE)
        wanted = [f for f in (params.get("fields") or "").split(",") if f]
        refs = (params.get("includeIdentityRef") or "").lower() == "true"
        with self.org.lock:
            chunk = self.org.feed[start : start + size]
            end = start + len(chunk)
            values = []
            for wid, rev in chunk:
                item = self.org.items[wid]
                fields = render.revision_fields(self.org, item, item.revisions[rev - 1], refs)
                if wanted:
                    fields = {k: v for k, v in fields.items() if k in wanted}
                values.append({"id": wid, "rev": rev, "fields": fields})
            last = end >= len(self.org.feed)
        base = self._base(request)
        return json_response(
            200,
            {
                "values": values,
                "nextLink": f"{base}/_apis/wit/reporting/workItemRevisions?"
                f"continuationToken={end}&api-version=7.1",
                "isLastBatch": last,
            },
        )

    def recycle_bin(self, request: httpx.Request, project: str) -> httpx.Response:
        """GET {project}/_apis/wit/recyclebin — shallow references of deleted items."""
        p = self._project(project)
        base = self._base(request)
        with self.org.lock:
            ids = [w.id for w in self.org.items.values() if w.deleted and w.head.project == p.index]
        value = [{"id": i, "url": f"{base}/_apis/wit/recycleBin/{i}"} for i in ids]
        return json_response(200, {"count": len(value), "value": value})

    # ------------------------------------------------------------------ git
    def repositories(self, request: httpx.Request, project: str) -> httpx.Response:
        p = self._project(project)
        base = self._base(request)
        value = [
            render.repository(self.org, base, r.index)
            for r in self.org.repos
            if r.project == p.index
        ]
        return json_response(200, {"count": len(value), "value": value})

    def pull_requests(self, request: httpx.Request, project: str, repo: str) -> httpx.Response:
        """GET …/pullrequests — newest first, ``searchCriteria.status`` (default active),
        ``searchCriteria.minTime`` + ``queryTimeRangeType`` (Created | Closed), $top/$skip."""
        p = self._project(project)
        r = self._repo(p, repo)
        params = request.url.params
        status = (params.get("searchCriteria.status") or "active").lower()
        min_time = params.get("searchCriteria.minTime")
        since = render.parse_time(min_time) if min_time else None
        closed = (params.get("searchCriteria.queryTimeRangeType") or "created").lower() == "closed"
        top = int(params.get("$top") or PR_DEFAULT_TOP)
        skip = int(params.get("$skip") or 0)
        chosen = []
        for pr in reversed(self.org.pull_requests):
            if pr.repo != r.index or (status != "all" and pr.status != status):
                continue
            if since is not None:
                stamp = pr.closed_ms if closed else pr.created_ms
                if stamp is None or stamp < since:
                    continue
            chosen.append(pr)
        page = chosen[skip : skip + top]
        base = self._base(request)
        value = [render.pull_request(self.org, base, pr) for pr in page]
        return json_response(200, {"value": value, "count": len(value)})

    def _pr(self, project: str, repo: str, pr: str) -> Any:
        p = self._project(project)
        r = self._repo(p, repo)
        pid = int(pr)
        if (
            not 1 <= pid <= len(self.org.pull_requests)
            or self.org.pull_request(pid).repo != r.index
        ):
            raise _Error(404, "TF401180: The requested pull request was not found.")
        return self.org.pull_request(pid)

    def threads(self, request: httpx.Request, project: str, repo: str, pr: str) -> httpx.Response:
        data = self._pr(project, repo, pr)
        base = self._base(request)
        value = [render.thread(self.org, base, t) for t in data.threads]
        return json_response(200, {"value": value, "count": len(value)})

    def commits(self, request: httpx.Request, project: str, repo: str, pr: str) -> httpx.Response:
        data = self._pr(project, repo, pr)
        params = request.url.params
        start = int(params.get("continuationToken") or 0)
        top = int(params.get("$top") or 100)
        chunk = list(reversed(data.commits))[start : start + top]
        base = self._base(request)
        headers = {}
        if start + top < len(data.commits):
            headers["x-ms-continuationtoken"] = str(start + top)
        value = [render.commit(self.org, base, c) for c in chunk]
        return json_response(200, {"value": value, "count": len(value)}, headers)

    def pr_work_items(
        self, request: httpx.Request, project: str, repo: str, pr: str
    ) -> httpx.Response:
        data = self._pr(project, repo, pr)
        base = self._base(request)
        value = [{"id": str(w), "url": f"{base}/_apis/wit/workItems/{w}"} for w in data.work_items]
        return json_response(200, {"count": len(value), "value": value})

    # ------------------------------------------------------------------ build / release
    def builds(self, request: httpx.Request, project: str) -> httpx.Response:
        """GET {project}/_apis/build/builds — queueTimeAscending; minTime, buildIds,
        $top, continuationToken (the next build id; header x-ms-continuationtoken)."""
        p = self._project(project)
        params = request.url.params
        min_time = params.get("minTime")
        since = render.parse_time(min_time) if min_time else None
        ids = {int(i) for i in (params.get("buildIds") or "").split(",") if i}
        after = int(params.get("continuationToken") or 0)
        top = int(params.get("$top") or 1000)
        with self.org.lock:
            chosen = [
                b
                for b in self.org.builds
                if self.org.repos[b.repo].project == p.index
                and b.queue_ms <= self.org.now_ms
                and (since is None or b.queue_ms >= since)
                and (not ids or b.id in ids)
                and b.id >= after
            ]
            page = chosen[:top]
            base = self._base(request)
            value = [render.build(self.org, base, b) for b in page]
        headers = {"x-ms-continuationtoken": str(chosen[top].id)} if len(chosen) > top else {}
        return json_response(200, {"count": len(value), "value": value}, headers)

    def release_deployments(self, request: httpx.Request, project: str) -> httpx.Response:
        """vsrm GET {project}/_apis/release/deployments — ascending by id; minModifiedTime,
        $top, continuationToken (next id, header x-ms-continuationtoken; UNVERIFIED which
        value the service puts there)."""
        p = self._project(project)
        params = request.url.params
        min_mod = params.get("minModifiedTime")
        since = render.parse_time(min_mod) if min_mod else None
        after = int(params.get("continuationToken") or 0)
        top = int(params.get("$top") or 50)
        with self.org.lock:
            chosen = [
                d
                for d in self.org.release_deployments
                if self.org.repos[self.org.build(d.build).repo].project == p.index
                and d.queued_ms <= self.org.now_ms
                and (since is None or render.modified_ms(self.org, d) >= since)
                and d.id >= after
            ]
            base = self._base(request)
            value = [render.release_deployment(self.org, base, d) for d in chosen[:top]]
        headers = {"x-ms-continuationtoken": str(chosen[top].id)} if len(chosen) > top else {}
        return json_response(200, {"count": len(value), "value": value}, headers)

    def _env_names(self, project_index: int) -> list[str]:
        return ["Dev", PRODUCTION] if project_index == 0 else ["staging", "production"]

    def environments(self, request: httpx.Request, project: str) -> httpx.Response:
        p = self._project(project)
        names = [] if p.index == 0 else self._env_names(p.index)
        value = [
            render.environment(self.org, n, self.org.environment_ids[n], p.name) for n in names
        ]
        return json_response(200, {"count": len(value), "value": value})

    def environment_records(self, request: httpx.Request, project: str, env: str) -> httpx.Response:
        """…/environmentdeploymentrecords — newest first (UNVERIFIED), ``top``,
        continuationToken (the next, smaller id)."""
        p = self._project(project)
        params = request.url.params
        before = int(params.get("continuationToken") or 1 << 62)
        top = int(params.get("top") or 50)
        with self.org.lock:
            chosen = [
                e
                for e in reversed(self.org.environment_records)
                if e.environment_id == int(env)
                and self.org.repos[self.org.build(e.build).repo].project == p.index
                and e.queue_ms <= self.org.now_ms
                and e.id <= before
            ]
            base = self._base(request)
            value = [render.environment_record(self.org, base, e) for e in chosen[:top]]
        headers = {"x-ms-continuationtoken": str(chosen[top].id)} if len(chosen) > top else {}
        return json_response(200, {"count": len(value), "value": value}, headers)


def _blocked(headers: dict[str, str]) -> httpx.Response:
    response = error_body(
        429,
        "TF400733: The request has been canceled: Request was blocked due to exceeding usage "
        "of resource 'ATCPU' in namespace 'User'.",
        "RequestBlockedException",
    )
    response.headers.update(headers)
    return response


def _rate_limited(request: httpx.Request, decision: Decision) -> httpx.Response:
    return _blocked(
        {
            "Retry-After": str(decision.retry_after),
            "X-RateLimit-Resource": "ATCPU",
            "X-RateLimit-Limit": str(decision.limit),
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": str(int(decision.reset_at)),
        }
    )


def _server_error(request: httpx.Request, status: int, retry_after: int | None) -> httpx.Response:
    response = error_body(
        status, "TF246020: The service is temporarily unavailable.", "ServiceUnavailableException"
    )
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response
