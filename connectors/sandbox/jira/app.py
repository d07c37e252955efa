"""Jira Cloud REST v3 simulator: ``JiraSimulator(org).handle`` is an httpx handler.

Each endpoint cites the Atlassian reference it follows. Behaviour the simulator adds beyond
the docs (observed quirks, chosen defaults) is said in the docstring and in API_NOTES §1.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from connectors.sandbox import timefmt
from connectors.sandbox.catalog import FIELDS, ISSUE_TYPES, STATUSES
from connectors.sandbox.faults import FaultInjector, FaultScenario
from connectors.sandbox.http_app import (
    json_body,
    json_response,
    raw_json_response,
    site_base,
    text_response,
)
from connectors.sandbox.issue_model import Issue
from connectors.sandbox.jira import development, render, tokens
from connectors.sandbox.jira.jql import JqlError, Query, parse
from connectors.sandbox.org import ORDER_ID, ORDER_KEY, ORDER_UPDATED, Org
from connectors.sandbox.people import User
from connectors.sandbox.ratelimit import Decision
from connectors.sandbox.timefmt import MINUTE_MS

SEARCH_CHANGELOG_CAP = 40  # histories embedded by search's expand=changelog (API_NOTES §1.1)
ISSUE_CHANGELOG_CAP = 100  # histories embedded by GET issue?expand=changelog (UNVERIFIED)
MAX_PAGE_WITH_FIELDS = 100  # search page cap once fields beyond id/key are asked for
MAX_PAGE_IDS_ONLY = 5000
_ID_FIELDS = {"id", "key"}
UNBOUNDED_JQL = (
    "Unbounded JQL queries are not allowed here. Please add a search restriction to your query."
)
_SEARCH_POST_KEYS = {
    "jql",
    "nextPageToken",
    "maxResults",
    "fields",
    "expand",
    "properties",
    "fieldsByKeys",
    "reconcileIssues",
}


@dataclass(frozen=True, slots=True)
class JiraCredentials:
    """Basic auth: the account's e-mail and an API token."""

    email: str
    api_token: str
    display_name: str = "Sandbox Demo"
    account_id: str = "712020:5a9d0c1e-sandbox-demo-account"


def error_collection(
    status: int, *messages: str, errors: dict[str, str] | None = None
) -> httpx.Response:
    """Jira's ErrorCollection body: ``{"errorMessages": [...], "errors": {...}}``."""
    return json_response(status, {"errorMessages": list(messages), "errors": errors or {}})


class _BadRequest(Exception):
    def __init__(self, *messages: str) -> None:
        super().__init__(*messages)
        self.messages = messages


_Route = tuple[str, re.Pattern[str], Callable[..., httpx.Response]]


class JiraSimulator:
    def __init__(
        self,
        org: Org,
        credentials: JiraCredentials,
        faults: FaultScenario | FaultInjector | None = None,
        *,
        search_removed: bool = True,
    ) -> None:
        self.org = org
        self.credentials = credentials
        self.faults = (
            faults if isinstance(faults, FaultInjector) else FaultInjector(faults, mutate=org.apply)
        )
        self.search_removed = search_removed
        self._me = User(
            -2,
            credentials.account_id,
            credentials.display_name,
            credentials.email,
            "Etc/UTC",
            True,
            "atlassian",
            None,
        )
        routes: list[tuple[str, str, Callable[..., httpx.Response]]] = [
            ("GET", "/rest/api/3/myself", self.myself),
            ("GET", "/rest/api/3/serverInfo", self.server_info),
            # Cloud serves v2 alongside v3; clients that work on Data Center too use v2.
            ("GET", "/rest/api/2/serverInfo", self.server_info),
            ("GET", "/rest/api/3/project/search", self.project_search),
            ("GET", "/rest/api/3/status", self.statuses),
            ("GET", "/rest/api/3/issuetype", self.issue_types),
            ("GET", "/rest/api/3/field", self.fields),
            ("GET", "/rest/api/3/users/search", self.users_search),
            ("GET", "/rest/api/3/search/jql", self.search_jql),
            ("POST", "/rest/api/3/search/jql", self.search_jql),
            ("POST", "/rest/api/3/search/approximate-count", self.approximate_count),
            ("GET", "/rest/api/3/search", self.search_removed_endpoint),
            ("POST", "/rest/api/3/search", self.search_removed_endpoint),
            ("GET", "/rest/api/3/issue/(?P<id_or_key>[^/]+)/changelog", self.issue_changelog),
            ("GET", "/rest/api/3/issue/(?P<id_or_key>[^/]+)", self.issue),
            ("POST", "/rest/api/3/changelog/bulkfetch", self.changelog_bulkfetch),
            ("GET", "/rest/dev-status/(?:latest|1\\.0)/issue/summary", self.dev_status_summary),
            ("GET", "/rest/dev-status/(?:latest|1\\.0)/issue/detail", self.dev_status_detail),
        ]
        self._routes: list[_Route] = [(m, re.compile(p + "$"), h) for m, p, h in routes]
        self._issue_texts = render.IssueTexts()

    # ------------------------------------------------------------------ plumbing
    def handle(self, request: httpx.Request) -> httpx.Response:
        """Entry point for ``httpx.MockTransport`` and the socket server."""
        return self.faults.run(request, self._route, _rate_limited, _server_error)

    def _route(self, request: httpx.Request) -> httpx.Response:
        if not self._authenticated(request):
            # Jira Cloud answers a bad e-mail/token pair with this plain-text 401, e.g.
            # github.com/atlassian/gajira-login/issues/59,
            # github.com/jira-node/node-jira-client/issues/255
            return text_response(
                401,
                "Client must be authenticated to access this resource.",
                {
                    "www-authenticate": 'Basic realm="protected-area"',
                    "x-seraph-loginreason": "AUTHENTICATED_FAILED",
                },
            )
        path = request.url.path
        for method, pattern, handler in self._routes:
            m = pattern.match(path)
            if m and method == request.method:
                try:
                    return handler(request, **m.groupdict())
                except _BadRequest as exc:
                    return error_collection(400, *exc.messages)
        if any(p.match(path) for _, p, _ in self._routes):
            return httpx.Response(405, headers={"allow": "GET, POST"})
        return error_collection(404, "null for uri: " + str(request.url))

    def _authenticated(self, request: httpx.Request) -> bool:
        header = request.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            email, _, token = base64.b64decode(value).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return (
            email.lower() == self.credentials.email.lower() and token == self.credentials.api_token
        )

    # ------------------------------------------------------------------ metadata
    def myself(self, request: httpx.Request) -> httpx.Response:
        """GET /rest/api/3/myself — https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-myself/#api-rest-api-3-myself-get"""
        out = render.user(site_base(request), self._me)
        out.update(
            locale="en_US",
            groups={"size": 1, "items": []},
            applicationRoles={"size": 1, "items": []},
            expand="groups,applicationRoles",
        )
        return json_response(200, out)

    def server_info(self, request: httpx.Request) -> httpx.Response:
        """GET /rest/api/3/serverInfo — https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-server-info/#api-rest-api-3-serverinfo-get"""
        return json_response(
            200,
            {
                "baseUrl": site_base(request),
                "version": "1001.0.0-SNAPSHOT",
                "versionNumbers": [1001, 0, 0],
                "deploymentType": "Cloud",
                "buildNumber": 100_283,
                "buildDate": "2025-01-06T00:00:00.000+0000",
                "serverTime": timefmt.jira_timestamp(self.org.now_ms),
                "scmInfo": "0" * 40,
                "serverTitle": "Jira",
                "defaultLocale": {"locale": "en_US"},
                "serverTimeZone": "Etc/UTC",
            },
        )

    def project_search(self, request: httpx.Request) -> httpx.Response:
        """GET /rest/api/3/project/search (PageBeanProject; maxResults capped at 100) —
        https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-projects/#api-rest-api-3-project-search-get"""
        q = request.url.params
        start = _int(q.get("startAt"), 0, "startAt")
        size = min(_int(q.get("maxResults"), 50, "maxResults"), 100)
        text = (q.get("query") or "").lower()
        keys = {k.upper() for v in q.get_list("keys") for k in v.split(",") if k}
        projects = sorted(self.org.projects, key=lambda p: p.key)
        if q.get("orderBy", "key").lstrip("+-") == "name":
            projects.sort(key=lambda p: p.name)
        if q.get("orderBy", "").startswith("-"):
            projects.reverse()
        projects = [
            p
            for p in projects
            if (not text or text in p.key.lower() or text in p.name.lower())
            and (not keys or p.key in keys)
        ]
        if not projects:
            return error_collection(404, "No projects found matching the search criteria.")
        base = site_base(request)
        page = projects[start : start + size]
        is_last = start + size >= len(projects)
        out: dict[str, Any] = {
            "self": f"{base}/rest/api/3/project/search?startAt={start}&maxResults={size}"
        }
        if not is_last:
            out["nextPage"] = (
                f"{base}/rest/api/3/project/search?startAt={start + size}&maxResults={size}"
            )
        out.update(
            maxResults=size,
            startAt=start,
            total=len(projects),
            isLast=is_last,
            values=[render.project(base, self.org, p) for p in page],
        )
        return json_response(200, out)

    def statuses(self, request: httpx.Request) -> httpx.Response:
        """GET /rest/api/3/status (bare array) — https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-workflow-statuses/#api-rest-api-3-status-get"""
        base = site_base(request)
        return json_response(200, [render.status(base, s) for s in STATUSES])

    def issue_types(self, request: httpx.Request) -> httpx.Response:
        """GET /rest/api/3/issuetype — https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-types/#api-rest-api-3-issuetype-get"""
        base = site_base(request)
        return json_response(200, [render.issue_type(base, t) for t in ISSUE_TYPES])

    def fields(self, request: httpx.Request) -> httpx.Response:
        """GET /rest/api/3/field (bare array of FieldDetails) — https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-fields/#api-rest-api-3-field-get"""
        return json_response(200, [render.field_def(f) for f in FIELDS])

    def users_search(self, request: httpx.Request) -> httpx.Response:
        """GET /rest/api/3/users/search (bare array; page until a short page) —
        https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-users/#api-rest-api-3-users-search-get"""
        q = request.url.params
        start = _int(q.get("startAt"), 0, "startAt")
        size = min(_int(q.get("maxResults"), 50, "maxResults"), 1000)
        everyone = [self.org.automation, *self.org.users]
        base = site_base(request)
        return json_response(200, [render.user(base, u) for u in everyone[start : start + size]])

    # ------------------------------------------------------------------ search
    def search_removed_endpoint(self, request: httpx.Request) -> httpx.Response:
        """GET|POST /rest/api/3/search — removed from Jira Cloud (CHANGE-2046), answers 410.
        https://developer.atlassian.com/changelog/#CHANGE-2046 (message text UNVERIFIED)"""
        if not self.search_removed:
            return error_collection(
                400, "The sandbox does not implement the legacy search endpoint."
            )
        return error_collection(
            410,
            "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. "
            "A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046",
        )

    def _search_params(self, request: httpx.Request) -> dict[str, Any]:
        if request.method == "GET":
            q = request.url.params
            return {
                "jql": q.get("jql", ""),
                "nextPageToken": q.get("nextPageToken"),
                "maxResults": _int(q.get("maxResults"), 50, "maxResults"),
                "fields": [f for v in q.get_list("fields") for f in v.split(",") if f.strip()],
                "expand": q.get("expand", ""),
            }
        try:
            body = json_body(request)
        except ValueError:
            raise _BadRequest(
                "Invalid request payload. Refer to the REST API documentation and try again."
            ) from None
        if not isinstance(body, dict) or set(body) - _SEARCH_POST_KEYS:
            raise _BadRequest(
                "Invalid request payload. Refer to the REST API documentation and try again."
            )
        fields = body.get("fields") or []
        expand = body.get("expand") or ""
        return {
            "jql": body.get("jql") or "",
            "nextPageToken": body.get("nextPageToken"),
            "maxResults": _int(body.get("maxResults"), 50, "maxResults"),
            "fields": [str(f) for f in fields],
            "expand": ",".join(expand) if isinstance(expand, list) else str(expand),
        }

    def search_jql(self, request: httpx.Request) -> httpx.Response:
        """GET|POST /rest/api/3/search/jql — enhanced search, token paging, no totals.

        https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-search/#api-rest-api-3-search-jql-get
        Default ``fields`` is ``id`` only; unbounded JQL is refused; ``nextPageToken`` is absent
        (not null) on the last page; pages hold at most 100 issues once fields beyond id/key
        are requested, whatever ``maxResults`` says; ``expand=changelog`` embeds at most 40
        histories, newest first, with ``total``. Pages may be shorter than the cap when issues
        were deleted during the walk. Paging is pinned to the org version of the first page.
        """
        params = self._search_params(request)
        jql = params["jql"]
        query = self._parse(jql)
        if not query.bounded:
            raise _BadRequest(UNBOUNDED_JQL)
        order, ascending = query.order[0] if query.order else ("updated", False)
        order = {"created": ORDER_ID, "updated": ORDER_UPDATED, "key": ORDER_KEY}.get(
            order, ORDER_ID
        )
        fp = tokens.fingerprint(jql)
        if params["nextPageToken"]:
            try:
                state = tokens.decode(params["nextPageToken"], fp)
            except tokens.TokenError as exc:
                raise _BadRequest(str(exc)) from None
            version, after = int(state["v"]), int(state["k"])
        else:
            version, after = self.org.version, None
        field_ids = self._field_selection(params["fields"])
        expand = {e.strip() for e in params["expand"].split(",") if e.strip()}
        heavy = bool(field_ids and set(field_ids) - _ID_FIELDS) or "changelog" in expand
        limit = max(
            1, min(params["maxResults"], MAX_PAGE_WITH_FIELDS if heavy else MAX_PAGE_IDS_ONLY)
        )
        matcher = _Matcher(self.org, query, version)
        found: list[int] = []
        more = False
        for sort_key in self._walk(query, matcher, version, order, ascending, after):
            if len(found) == limit:
                more = True
                break
            found.append(sort_key)
        base = site_base(request)
        renderer = render.IssueRenderer(self.org, base)
        wanted = [f for f in field_ids if f not in _ID_FIELDS] if field_ids else None
        only_id = field_ids in ([], ["id"]) and "changelog" not in expand
        issues: list[str] = []
        cap = SEARCH_CHANGELOG_CAP if "changelog" in expand else None
        shown = tuple(wanted or [])
        now = self.org.version  # read before the issues: their texts are kept for it
        for sort_key in found:
            index = Org.index_from_sort_key(sort_key)
            if only_id:
                issue = self.org.issue(index)
                text = None if issue is None else f'{{"id":"{issue.id}"}}'
            else:
                text = self._issue_texts.text(renderer, now, index, shown, cap)
            if text is None:  # deleted since the walk began: the page comes back shorter
                continue
            issues.append(text)
        tail: dict[str, Any] = {}
        if more:
            tail["nextPageToken"] = tokens.encode({"f": fp, "v": version, "k": found[-1]})
        tail["isLast"] = not more
        if "names" in expand:
            tail["names"] = {f.id: f.name for f in FIELDS if not wanted or f.id in wanted}
        # Assembled as text: issues arrive pre-encoded (see IssueRenderer.issue_text).
        body = '{"issues":[' + ",".join(issues) + "]," + json.dumps(tail, separators=(",", ":"))[1:]
        return raw_json_response(200, body)

    def _parse(self, jql: str) -> Query:
        try:
            query = parse(jql)
            _Matcher(self.org, query, self.org.version)  # resolves names: unknown ones are a 400
            return query
        except JqlError as exc:
            raise _BadRequest(str(exc)) from None

    def _field_selection(self, requested: list[str]) -> list[str]:
        """Expand ``*all``/``*navigable``, drop ``-field`` exclusions; [] means id only."""
        all_ids = [f.id for f in FIELDS]
        chosen: list[str] = []
        excluded = set()
        for raw in requested:
            f = raw.strip()
            if f in ("*all", "*navigable"):
                chosen.extend(all_ids)
            elif f.startswith("-"):
                excluded.add(f[1:])
            elif f:
                chosen.append(f)
        return [f for f in dict.fromkeys(chosen) if f not in excluded]

    def _walk(
        self,
        query: Query,
        matcher: _Matcher,
        version: int,
        order: str,
        ascending: bool,
        after: int | None,
    ) -> Iterator[int]:
        """Sort keys of matching issues, strictly after ``after`` in the requested direction."""
        candidates = matcher.candidate_indices()
        if candidates is not None:
            keys = sorted(
                k for i in candidates if (k := self.org.sort_key(i, version, order)) is not None
            )
        else:
            keys = self.org.ordering(version, order)  # type: ignore[assignment]
        low, high = 0, len(keys)
        if order == ORDER_UPDATED and candidates is None:
            lo_ms, hi_ms = matcher.updated_range()
            if lo_ms is not None:
                low = bisect.bisect_left(keys, self.org.updated_sort_key(lo_ms))
            if hi_ms is not None:
                high = bisect.bisect_left(keys, self.org.updated_sort_key(hi_ms))
        if ascending:
            start = low if after is None else max(low, bisect.bisect_right(keys, after))
            positions: range = range(start, high)
        else:
            stop = high if after is None else min(high, bisect.bisect_left(keys, after))
            positions = range(stop - 1, low - 1, -1)
        for pos in positions:
            key = keys[pos]
            if matcher.matches(Org.index_from_sort_key(key)):
                yield key

    def approximate_count(self, request: httpx.Request) -> httpx.Response:
        """POST /rest/api/3/search/approximate-count — https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-search/#api-rest-api-3-search-approximate-count-post"""
        try:
            body = json_body(request)
        except ValueError:
            raise _BadRequest(
                "Invalid request payload. Refer to the REST API documentation and try again."
            ) from None
        query = self._parse(str(body.get("jql") or "") if isinstance(body, dict) else "")
        if not query.bounded:
            raise _BadRequest(UNBOUNDED_JQL)
        matcher = _Matcher(self.org, query, self.org.version)
        count = sum(1 for _ in self._walk(query, matcher, self.org.version, ORDER_ID, True, None))
        return json_response(200, {"count": count})

    # ------------------------------------------------------------------ issues & changelogs
    def issue(self, request: httpx.Request, id_or_key: str) -> httpx.Response:
        """GET /rest/api/3/issue/{issueIdOrKey} (default fields ``*all``; an old key of a moved
        issue resolves to it) — https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/#api-rest-api-3-issue-issueidorkey-get"""
        issue = self.org.find_issue(id_or_key)
        if issue is None:
            return _issue_not_found()
        q = request.url.params
        requested = [f for v in q.get_list("fields") for f in v.split(",") if f.strip()] or ["*all"]
        fields = [f for f in self._field_selection(requested) if f not in _ID_FIELDS]
        expand = {e.strip() for e in q.get("expand", "").split(",")}
        renderer = render.IssueRenderer(self.org, site_base(request))
        cap = ISSUE_CHANGELOG_CAP if "changelog" in expand else None
        return json_response(200, renderer.issue(issue, fields, cap))

    def issue_changelog(self, request: httpx.Request, id_or_key: str) -> httpx.Response:
        """GET /rest/api/3/issue/{issueIdOrKey}/changelog (PageBeanChangelog, oldest first) —
        https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/#api-rest-api-3-issue-issueidorkey-changelog-get"""
        issue = self.org.find_issue(id_or_key)
        if issue is None:
            return _issue_not_found()
        q = request.url.params
        start = _int(q.get("startAt"), 0, "startAt")
        size = max(1, min(_int(q.get("maxResults"), 100, "maxResults"), 100))
        base = site_base(request)
        renderer = render.IssueRenderer(self.org, base)
        total = len(issue.histories)
        page = issue.histories[start : start + size]
        is_last = start + size >= total
        url = f"{base}/rest/api/3/issue/{id_or_key}/changelog"
        out: dict[str, Any] = {"self": f"{url}?startAt={start}&maxResults={size}"}
        if not is_last:
            out["nextPage"] = f"{url}?&startAt={start + size}&maxResults={size}"
        out.update(
            maxResults=size,
            startAt=start,
            total=total,
            isLast=is_last,
            values=[renderer.history(h) for h in page],
        )
        return json_response(200, out)

    def changelog_bulkfetch(self, request: httpx.Request) -> httpx.Response:
        """POST /rest/api/3/changelog/bulkfetch (≤1000 issues, ≤10 fieldIds, token paging over
        change histories, oldest first) — https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/#api-rest-api-3-changelog-bulkfetch-post"""
        try:
            body = json_body(request)
        except ValueError:
            raise _BadRequest(
                "Invalid request payload. Refer to the REST API documentation and try again."
            ) from None
        if not isinstance(body, dict):
            raise _BadRequest(
                "Invalid request payload. Refer to the REST API documentation and try again."
            )
        wanted = [str(x) for x in body.get("issueIdsOrKeys") or []]
        field_ids = {str(x) for x in body.get("fieldIds") or []}
        if not wanted:
            raise _BadRequest("issueIdsOrKeys must not be empty.")
        if len(wanted) > 1000:
            raise _BadRequest("The number of issueIdsOrKeys must not exceed 1000.")
        if len(field_ids) > 10:
            raise _BadRequest("The number of fieldIds must not exceed 10.")
        size = max(1, min(_int(body.get("maxResults"), 1000, "maxResults"), 10_000))
        fp = tokens.fingerprint(wanted, sorted(field_ids))
        issue_pos, hist_pos = 0, 0
        if body.get("nextPageToken"):
            try:
                state = tokens.decode(str(body["nextPageToken"]), fp)
            except tokens.TokenError as exc:
                raise _BadRequest(str(exc)) from None
            issue_pos, hist_pos = int(state["i"]), int(state["h"])
        renderer = render.IssueRenderer(self.org, site_base(request))
        logs: list[dict[str, Any]] = []
        budget = size
        next_state: tuple[int, int] | None = None
        for pos in range(issue_pos, len(wanted)):
            issue = self.org.find_issue(wanted[pos])
            if issue is None:
                continue
            histories = [renderer.history(h) for h in issue.histories]
            if field_ids:
                histories = [
                    {**h, "items": [it for it in h["items"] if it.get("fieldId") in field_ids]}
                    for h in histories
                ]
                histories = [h for h in histories if h["items"]]
            first = hist_pos if pos == issue_pos else 0
            chunk = histories[first : first + budget]
            if chunk:
                logs.append({"issueId": issue.id, "changeHistories": chunk})
            budget -= len(chunk)
            if budget == 0:
                end = first + len(chunk)
                next_state = (pos, end) if end < len(histories) else (pos + 1, 0)
                break
        out: dict[str, Any] = {"issueChangeLogs": logs}
        if next_state is not None and next_state[0] < len(wanted):
            out["nextPageToken"] = tokens.encode({"f": fp, "i": next_state[0], "h": next_state[1]})
        return json_response(200, out)

    # ------------------------------------------------------------------ dev-status
    def dev_status_summary(self, request: httpx.Request) -> httpx.Response:
        """GET /rest/dev-status/latest/issue/summary?issueId= — internal, undocumented API used
        by Jira's development panel; shape per API_NOTES §1.6 (UNVERIFIED field list)."""
        issue = self._dev_status_issue(request)
        if isinstance(issue, httpx.Response):
            return issue
        return json_response(
            200, {"errors": [], "configErrors": [], "summary": development.summary(self.org, issue)}
        )

    def dev_status_detail(self, request: httpx.Request) -> httpx.Response:
        """GET /rest/dev-status/latest/issue/detail?issueId=&applicationType=&dataType= —
        internal API; the repository shape follows the recorded DevLake capture, the
        pullrequest/branch shapes follow API_NOTES §1.6 (UNVERIFIED). ``applicationType`` is
        matched exactly: anything but ``GitHub`` gets an empty ``detail``."""
        issue = self._dev_status_issue(request)
        if isinstance(issue, httpx.Response):
            return issue
        q = request.url.params
        data_type = q.get("dataType", "")
        if data_type not in ("pullrequest", "branch", "repository"):
            return json_response(
                400, {"errors": [{"error": f"Unknown dataType '{data_type}'"}], "detail": []}
            )
        if q.get("applicationType") != "GitHub":
            return json_response(200, {"errors": [], "detail": []})
        prs = self.org.pull_requests_for_issue(issue.index)
        gh = "https://github.com"
        instance = {
            "singleInstance": True,
            "baseUrl": gh,
            "name": "GitHub",
            "typeName": "GitHub",
            "id": "github",
            "type": "GitHub",
        }
        repos = self.org.repositories
        pull_requests = []
        branches = []
        repositories: dict[int, dict[str, Any]] = {}
        for pr in prs:
            repo = repos[pr.repository]
            url = f"{gh}/{repo.full_name}"
            author = {
                "name": pr.author_login,
                "avatar": f"https://avatars.githubusercontent.com/{pr.author_login}",
            }
            pull_requests.append(
                {
                    "author": author,
                    "id": f"#{pr.number}",
                    "name": pr.title,
                    "commentCount": len(pr.comments),
                    "source": {"branch": pr.head_ref, "url": f"{url}/tree/{pr.head_ref}"},
                    "destination": {"branch": pr.base_ref, "url": f"{url}/tree/{pr.base_ref}"},
                    "reviewers": [
                        {
                            "name": r.author_login,
                            "avatar": f"https://avatars.githubusercontent.com/{r.author_login}",
                            "approved": r.state == "APPROVED",
                        }
                        for r in pr.reviews
                    ],
                    "status": {"OPEN": "OPEN", "MERGED": "MERGED", "CLOSED": "DECLINED"}[pr.state],
                    "url": f"{url}/pull/{pr.number}",
                    "lastUpdate": timefmt.jira_timestamp(pr.updated_ms),
                    "repositoryId": str(repo.database_id),
                    "repositoryName": repo.full_name,
                    "repositoryUrl": url,
                }
            )
            last = pr.commits[-1]
            commit = {
                "id": last.oid,
                "displayId": last.oid[:7],
                "authorTimestamp": timefmt.jira_timestamp(last.authored_ms),
                "url": f"{url}/commit/{last.oid}",
                "author": {"name": last.author_name, "avatar": ""},
                "fileCount": len(pr.files),
                "merge": False,
                "message": last.message,
                "files": [],
            }
            branches.append(
                {
                    "name": pr.head_ref,
                    "url": f"{url}/tree/{pr.head_ref}",
                    "createPullRequestUrl": f"{url}/compare/{pr.head_ref}?expand=1",
                    "repository": {"name": repo.full_name, "url": url, "avatar": ""},
                    "lastCommit": commit,
                }
            )
            entry = repositories.setdefault(
                pr.repository, {"name": repo.full_name, "avatar": "", "url": url, "commits": []}
            )
            entry["commits"].extend(
                {
                    **commit,
                    "id": c.oid,
                    "displayId": c.oid[:7],
                    "message": c.message,
                    "authorTimestamp": timefmt.jira_timestamp(c.authored_ms),
                    "url": f"{url}/commit/{c.oid}",
                }
                for c in pr.commits
            )
        detail: dict[str, Any]
        if data_type == "pullrequest":
            detail = {"branches": [], "pullRequests": pull_requests, "repositories": []}
        elif data_type == "branch":
            detail = {"branches": branches, "pullRequests": pull_requests, "repositories": []}
        else:
            detail = {"repositories": list(repositories.values())}
        detail["_instance"] = instance
        return json_response(200, {"errors": [], "detail": [detail]})

    def _dev_status_issue(self, request: httpx.Request) -> Issue | httpx.Response:
        raw = request.url.params.get("issueId", "")
        if not raw.isdigit():
            return json_response(
                400, {"errors": [{"error": "issueId must be a numeric issue id"}], "detail": []}
            )
        issue = self.org.find_issue(raw)
        if issue is None:
            return _issue_not_found()
        return issue


def _issue_not_found() -> httpx.Response:
    return error_collection(404, "Issue does not exist or you do not have permission to see it.")


def _int(value: object, default: int, name: str) -> int:
    if value is None or value == "":
        return default
    try:
        return int(str(value))
    except ValueError:
        raise _BadRequest(f"The value '{value}' is invalid for the parameter '{name}'.") from None


class _Matcher:
    """JQL clauses as checks on an issue's state in the pinned snapshot."""

    def __init__(self, org: Org, query: Query, version: int) -> None:
        self.org = org
        self.version = version
        self.projects: set[int] | None = None
        self.excluded_projects: set[int] = set()
        self.indices: set[int] | None = None
        self.types: set[int] | None = None
        self.times = query.times
        for name, negated, values in query.sets:
            if name == "project":
                found = {self._project(v) for v in values}
                if negated:
                    self.excluded_projects |= found
                else:
                    self.projects = found if self.projects is None else self.projects & found
            elif name in ("key", "id"):
                idx = {self._issue(name, v) for v in values}
                if negated:
                    raise JqlError(
                        f"The sandbox's JQL subset does not support 'not in' on '{name}'."
                    )
                self.indices = idx if self.indices is None else self.indices & idx
            elif name == "issuetype":
                types = {self._type(v) for v in values}
                self.types = types if self.types is None else self.types & types

    def _project(self, value: str) -> int:
        for p in self.org.projects:
            if value.upper() == p.key or value == p.id or value.lower() == p.name.lower():
                return p.index
        raise JqlError(f"The value '{value}' does not exist for the field 'project'.")

    def _issue(self, field: str, value: str) -> int:
        index = self.org.index_of(value)
        if index is None or (field == "id" and not value.isdigit()):
            raise JqlError(f"An issue with key '{value}' does not exist for field '{field}'.")
        return index

    def _type(self, value: str) -> int:
        for n, t in enumerate(ISSUE_TYPES):
            if value.lower() == t.name.lower() or value == t.id:
                return n
        raise JqlError(f"The value '{value}' does not exist for the field 'issuetype'.")

    def candidate_indices(self) -> set[int] | None:
        return self.indices

    def updated_range(self) -> tuple[int | None, int | None]:
        """[low, high) bounds on ``updated`` in ms, from minute-resolution clauses."""
        low: int | None = None
        high: int | None = None
        for t in self.times:
            if t.field != "updated":
                continue
            lo, hi = {
                ">=": (t.minute_ms, None),
                ">": (t.minute_ms + MINUTE_MS, None),
                "<": (None, t.minute_ms),
                "<=": (None, t.minute_ms + MINUTE_MS),
                "=": (t.minute_ms, t.minute_ms + MINUTE_MS),
            }[t.op]
            if lo is not None:
                low = lo if low is None else max(low, lo)
            if hi is not None:
                high = hi if high is None else min(high, hi)
        return low, high

    def matches(self, index: int) -> bool:
        st = self.org.state_at(index, self.version)
        if not st.alive:
            return False
        if self.projects is not None and st.project not in self.projects:
            return False
        if st.project in self.excluded_projects:
            return False
        if self.indices is not None and index not in self.indices:
            return False
        sk = self.org.skeletons
        if self.types is not None and sk.type[index] not in self.types:
            return False
        for t in self.times:
            # Jira compares date-times in JQL at minute resolution.
            value = st.updated_ms if t.field == "updated" else sk.created[index]
            minute = value - value % MINUTE_MS
            ok = {
                ">=": minute >= t.minute_ms,
                ">": minute > t.minute_ms,
                "<=": minute <= t.minute_ms,
                "<": minute < t.minute_ms,
                "=": minute == t.minute_ms,
            }[t.op]
            if not ok:
                return False
        return True


def _rate_limited(request: httpx.Request, decision: Decision) -> httpx.Response:
    """429 with the headers Jira documents — https://developer.atlassian.com/cloud/jira/platform/rate-limiting/"""
    reset_ms = int(decision.reset_at * 1000)
    return json_response(
        429,
        {"errorMessages": ["Rate limit exceeded."], "errors": {}},
        {
            "retry-after": str(decision.retry_after),
            "x-ratelimit-reset": timefmt.rate_limit_reset(reset_ms + MINUTE_MS - 1),
            "x-ratelimit-limit": str(decision.limit),
            "x-ratelimit-remaining": "0",
            "x-ratelimit-nearlimit": "true",
            "ratelimit-reason": "jira-burst-based",
        },
    )


def _server_error(request: httpx.Request, status: int, retry_after: int | None) -> httpx.Response:
    headers = {"retry-after": str(retry_after)} if retry_after is not None else None
    return (
        error_collection(
            status,
            "Internal server error" if status == 500 else "Service unavailable",
        )
        if not headers
        else json_response(
            status, {"errorMessages": ["Service unavailable"], "errors": {}}, headers
        )
    )
