"""The typed Jira client (Cloud REST v3; Data Center REST v2 where the two differ)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator, Sequence
from enum import StrEnum
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from connectors.base import ConnectionCheck
from connectors.closing import Closing
from connectors.errors import BadPayload, ConnectorError, NotFound, RequestRejected
from connectors.http import (
    BasicAuth,
    BearerAuth,
    HttpClient,
    HttpCounters,
    Secret,
    decode_json,
)
from connectors.http.gate import RateGate, gate_for
from connectors.jira.changelogs import (
    BULK_MAX_FIELDS,
    BULK_MAX_ISSUES,
    ChangelogBatch,
    chunks,
    sort_histories,
    split_embedded,
)
from connectors.jira.models import (
    ChangeHistory,
    DevStatusDetail,
    DevStatusSummary,
    EmbeddedChangelog,
    FieldInfo,
    Issue,
    IssueChangelogs,
    IssueType,
    Project,
    ServerInfo,
    Status,
    User,
)
from connectors.jira.search import SearchPage, offset_token, parse_offset_token
from connectors.validation import Rejected, validate_each, validate_whole

log = logging.getLogger("connectors.jira")

P = TypeVar("P", bound=BaseModel)

DEFAULT_SEARCH_FIELDS: tuple[str, ...] = ("*navigable",)
DevDataType = str  # "pullrequest" | "branch" | "repository"


JIRA_MAX_IN_FLIGHT = 64
"""Requests one Jira account sends at once unless its integration says otherwise. Jira Cloud
publishes no concurrency limit: its limits are dynamic and signalled only by 429 with
Retry-After (https://developer.atlassian.com/cloud/jira/platform/rate-limiting/, API_NOTES
§1.5), so the account's gate is adaptive: a 429 halves this and answered rounds creep back.
At a 150 ms round trip, in flight / round trip bounds a sync: a medium organisation's first
full sync makes 1,650 requests, 330 request-seconds, so 32 at once could not finish it in
under 10 s (measured 1.9x the sequential page rate with 4 windows); 64 let it reach 2.4x
(96: no faster, the machine's CPU was then the limit)."""


def jira_gate(base_url: str, identity: str, max_in_flight: int = JIRA_MAX_IN_FLIGHT) -> RateGate:
    """The process's one adaptive rate gate of ``identity`` (the account's e-mail, or the
    integration) on the site at ``base_url``, at the ceiling ``max_in_flight`` (a changed
    setting takes effect on the gate that already exists)."""
    gate = gate_for(
        "jira",
        base_url,
        identity,
        make=lambda: RateGate(max_in_flight, adaptive=True, first=_is_search),
    )
    if gate.max_in_flight != max_in_flight:
        gate.set_max_in_flight(max_in_flight)
    return gate


def _is_search(method: str, path: str) -> bool:
    """A search page: what a page chain waits on (its per-issue calls can wait)."""
    return path.endswith(("/search/jql", "/rest/api/2/search", "/rest/api/3/search"))


class Deployment(StrEnum):
    CLOUD = "cloud"
    DATA_CENTER = "data_center"


class JiraClient(Closing):
    """Reads a Jira site through the shared :class:`HttpClient`.

    Build one with :meth:`cloud` (email + API token, basic auth) or :meth:`data_center`
    (personal access token, bearer). The client is not thread-safe; use one per job.
    """

    source = "jira"

    def __init__(self, http: HttpClient, *, deployment: Deployment | None = None) -> None:
        self.http = http
        self._deployment = deployment
        self._bulk_changelog_supported = True

    # -- construction ----------------------------------------------------------------------

    @classmethod
    def cloud(cls, base_url: str, email: str, api_token: Secret, **options: Any) -> JiraClient:
        """Jira Cloud: ``https://<site>.atlassian.net`` with basic auth (email:API token).

        https://developer.atlassian.com/cloud/jira/platform/basic-auth-for-rest-apis/
        ``options``: transport, clock, cancel, observer, retry, rate_limit, budget, timeout.
        """
        http = HttpClient.from_options(base_url, cls.source, BasicAuth(email, api_token), options)
        return cls(http, deployment=Deployment.CLOUD)

    @classmethod
    def data_center(cls, base_url: str, token: Secret, **options: Any) -> JiraClient:
        """Jira Data Center with a personal access token (bearer).

        https://confluence.atlassian.com/enterprise/using-personal-access-tokens-1026032365.html
        """
        http = HttpClient.from_options(base_url, cls.source, BearerAuth(token), options)
        return cls(http, deployment=Deployment.DATA_CENTER)

    # -- Connector protocol ----------------------------------------------------------------

    def counters(self) -> HttpCounters:
        return self.http.counters()

    def close(self) -> None:
        self.http.close()

    def __repr__(self) -> str:
        kind = self._deployment.value if self._deployment else "unknown"
        return f"JiraClient({self.http.config.base_url!r}, deployment={kind})"

    def test_connection(self) -> ConnectionCheck:
        """Who are we, and on which Jira? Two cheap calls; expected failures become text.

        https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-myself/
        """
        try:
            info = self.server_info()
            me = self.myself()
        except ConnectorError as exc:
            return ConnectionCheck(ok=False, title=exc.title, message=exc.message)
        kind = "Cloud" if info.is_cloud else "Data Center"
        title = info.server_title or info.base_url or self.http.config.base_url
        version = f" {info.version}" if info.version else ""
        who = me.display_name or me.email_address or me.identity or "unknown user"
        return ConnectionCheck(
            ok=True,
            title="Connected",
            message=f"Connected to {title} (Jira {kind}{version}) as {who}.",
            account=who,
            server=title,
        )

    # -- deployment ------------------------------------------------------------------------

    @property
    def deployment(self) -> Deployment:
        if self._deployment is None:
            info = self.server_info()
            self._deployment = Deployment.CLOUD if info.is_cloud else Deployment.DATA_CENTER
        return self._deployment

    @property
    def is_cloud(self) -> bool:
        return self.deployment is Deployment.CLOUD

    @property
    def _api(self) -> str:
        return "/rest/api/3" if self.is_cloud else "/rest/api/2"

    # -- identity and server ---------------------------------------------------------------

    def myself(self) -> User:
        """The authenticated user (its ``timeZone`` is the zone JQL literals are read in).

        https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-myself/#api-rest-api-3-myself-get
        """
        path = f"{self._api}/myself"
        return validate_whole(_USER, self.http.get_json(path), what="a user", source=path)

    def server_info(self) -> ServerInfo:
        """Version, title and ``deploymentType`` (Cloud vs Server/DataCenter).

        Uses REST v2, which both Cloud and Data Center serve, because it runs before we know
        which one this is.
        https://developer.atlassian.com/cloud/jira/platform/rest/v2/api-group-server-info/#api-rest-api-2-serverinfo-get
        """
        path = "/rest/api/2/serverInfo"
        data = self.http.get_json(path)
        return validate_whole(_SERVER_INFO, data, what="server info", source=path)

    # -- metadata --------------------------------------------------------------------------

    def iter_projects(self, *, page_size: int = 50) -> Iterator[Project]:
        """Every visible project, paged by startAt (the server may cap maxResults at 100).

        https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-projects/#api-rest-api-3-project-search-get
        Data Center: ``GET /rest/api/2/project`` returns all projects in one array.
        """
        if not self.is_cloud:
            path = "/rest/api/2/project"
            yield from validate_whole(
                _PROJECTS, self.http.get_json(path), what="projects", source=path
            )
            return
        path = f"{self._api}/project/search"
        start_at = 0
        while True:
            data = self.http.get_json(
                path, params={"startAt": start_at, "maxResults": page_size, "orderBy": "key"}
            )
            page = _envelope(data, "values", path)
            projects = validate_whole(_PROJECTS, page["values"], what="projects", source=path)
            yield from projects
            if data.get("isLast") is True or not projects:
                return
            total = data.get("total")
            start_at += len(projects)
            if isinstance(total, int) and start_at >= total:
                return

    def statuses(self) -> list[Status]:
        """All statuses with their category (new / indeterminate / done).

        https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-workflow-statuses/#api-rest-api-3-status-get
        """
        path = f"{self._api}/status"
        return validate_whole(_STATUSES, self.http.get_json(path), what="statuses", source=path)

    def issue_types(self) -> list[IssueType]:
        """https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-types/#api-rest-api-3-issuetype-get"""
        path = f"{self._api}/issuetype"
        data = self.http.get_json(path)
        return validate_whole(_ISSUE_TYPES, data, what="issue types", source=path)

    def fields(self) -> list[FieldInfo]:
        """System and custom fields (use ``custom_field_names`` for id → name).

        https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-fields/#api-rest-api-3-field-get
        """
        path = f"{self._api}/field"
        return validate_whole(_FIELDS, self.http.get_json(path), what="fields", source=path)

    def iter_users(self, *, page_size: int = 100) -> Iterator[User]:
        """All users (needs the Browse users permission; 403 otherwise).

        https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-users/#api-rest-api-3-users-search-get
        The endpoint returns a bare array with no total, and may serve fewer than asked, so
        paging stops at an empty page or one shorter than the longest page seen.
        Data Center: ``/rest/api/2/user/search?username=.`` (UNVERIFIED: the "." wildcard
        behaviour differs between DC versions).
        """
        if self.is_cloud:
            path = f"{self._api}/users/search"
            extra: dict[str, str] = {}
        else:
            path = "/rest/api/2/user/search"
            extra = {"username": "."}
        start_at = 0
        longest = 0
        while True:
            data = self.http.get_json(
                path, params={**extra, "startAt": start_at, "maxResults": page_size}
            )
            users = validate_whole(_USERS, data, what="users", source=path)
            yield from users
            if not users or len(users) < longest:
                return
            longest = max(longest, len(users))
            start_at += len(users)

    # -- search ----------------------------------------------------------------------------

    def search_page(
        self,
        jql: str,
        *,
        fields: Sequence[str] = DEFAULT_SEARCH_FIELDS,
        expand: Sequence[str] = (),
        next_page_token: str | None = None,
        max_results: int = 100,
    ) -> SearchPage:
        """One page of issues for a bounded JQL.

        Cloud: ``POST /rest/api/3/search/jql`` with ``nextPageToken`` paging (no total).
        https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-search/#api-rest-api-3-search-jql-post
        Data Center: ``POST /rest/api/2/search`` with startAt/total, the offset carried in
        the token as ``startAt:N``.
        https://docs.atlassian.com/software/jira/docs/api/REST/latest/#api/2/search-searchUsingSearchRequest
        POST so long field lists fit; it is read-only, hence safe to retry.
        """
        if self.is_cloud:
            return self._search_cloud(jql, fields, expand, next_page_token, max_results)
        return self._search_data_center(jql, fields, expand, next_page_token, max_results)

    def iter_search(
        self,
        jql: str,
        *,
        fields: Sequence[str] = DEFAULT_SEARCH_FIELDS,
        expand: Sequence[str] = (),
        start_token: str | None = None,
        max_results: int = 100,
    ) -> Iterator[SearchPage]:
        """Pages from ``start_token`` (a checkpointed token, or None) to the end."""
        token = start_token
        seen: set[str] = set()
        while True:
            page = self.search_page(
                jql, fields=fields, expand=expand, next_page_token=token, max_results=max_results
            )
            yield page
            if page.is_last or page.next_page_token is None:
                return
            if page.next_page_token in seen:
                raise BadPayload(
                    "Jira returned the same page token twice; stopping instead of looping.",
                    raw=page.next_page_token,
                )
            seen.add(page.next_page_token)
            token = page.next_page_token

    def approximate_count(self, jql: str) -> int:
        """An estimate of how many issues match (for progress, never for correctness).

        https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-search/#api-rest-api-3-search-approximate-count-post
        Data Center: the exact ``total`` of a zero-size search.
        """
        if not self.is_cloud:
            path = "/rest/api/2/search"
            body = {"jql": jql, "maxResults": 0, "fields": ["id"]}
            data = self.http.post_json(path, body, retry_safe=True)
            return _int_field(data, "total", path)
        path = "/rest/api/3/search/approximate-count"
        data = self.http.post_json(path, {"jql": jql}, retry_safe=True)
        return _int_field(data, "count", path)

    def _search_post(
        self, path: str, body: dict[str, Any]
    ) -> tuple[dict[str, Any], list[Issue], list[Rejected]]:
        """POST one search; → the page's paging keys, its issues, and those that did not
        validate.

        A whole page is validated straight from the body's bytes in one pass (pydantic's
        JSON parser: a quarter of the GIL time of `json.loads` and validating issue by
        issue, the largest share of a sync's CPU); a page with any unreadable part takes the
        old way, so one malformed issue is still set aside with its raw JSON while the rest
        flow on, and a body that is not JSON is still `BadPayload`.
        """
        envelope, data = self._post_page(path, body, _SEARCH_ENVELOPE)
        if envelope is None:
            data = _envelope(data, "issues", path)
            issues, rejected = validate_each(Issue, data["issues"], kind="issue", source=path)
            return data, issues, rejected
        paging = {k: v for k, v in (envelope.model_extra or {}).items() if k != "issues"}
        return paging, envelope.issues, []

    def _post_page(
        self, path: str, body: dict[str, Any], adapter: TypeAdapter[P]
    ) -> tuple[P | None, Any]:
        """POST a read-only query; → (the page validated whole from the body's bytes, None),
        or (None, the body's JSON) when any part of it does not validate, for the caller to
        validate item by item (a body that is not JSON is `BadPayload`)."""
        response = self.http.request("POST", path, json=body, retry_safe=True)
        try:
            return adapter.validate_json(response.content), None
        except ValidationError:
            return None, decode_json(response)

    def _search_cloud(
        self,
        jql: str,
        fields: Sequence[str],
        expand: Sequence[str],
        token: str | None,
        max_results: int,
    ) -> SearchPage:
        path = "/rest/api/3/search/jql"
        body: dict[str, Any] = {"jql": jql, "maxResults": max_results, "fields": list(fields)}
        if expand:
            # This endpoint takes expand as one comma-separated string, unlike most others.
            body["expand"] = ",".join(expand)
        if token:
            body["nextPageToken"] = token
        page, issues, rejected = self._search_post(path, body)
        next_token = page.get("nextPageToken") or None
        is_last = bool(page.get("isLast")) or next_token is None
        return SearchPage(
            issues=issues,
            next_page_token=None if is_last else str(next_token),
            is_last=is_last,
            rejected=rejected,
        )

    def _search_data_center(
        self,
        jql: str,
        fields: Sequence[str],
        expand: Sequence[str],
        token: str | None,
        max_results: int,
    ) -> SearchPage:
        path = "/rest/api/2/search"
        start_at = parse_offset_token(token)
        body: dict[str, Any] = {
            "jql": jql,
            "startAt": start_at,
            "maxResults": max_results,
            "fields": list(fields),
        }
        if expand:
            body["expand"] = list(expand)
        page, issues, rejected = self._search_post(path, body)
        total = page.get("total") if isinstance(page.get("total"), int) else None
        next_start = start_at + len(issues) + len(rejected)
        is_last = not (issues or rejected) or (total is not None and next_start >= total)
        return SearchPage(
            issues=issues,
            next_page_token=None if is_last else offset_token(next_start),
            is_last=is_last,
            total=total,
            rejected=rejected,
        )

    # -- changelogs ------------------------------------------------------------------------

    def complete_changelogs(
        self, issues: Iterable[Issue], *, field_ids: Sequence[str] | None = None
    ) -> ChangelogBatch:
        """Full histories (oldest first) for a page of issues, with the fewest requests.

        Embedded changelogs (search ``expand=changelog``) are used when complete; the rest are
        bulk-fetched. With ``field_ids`` the embedded ones cannot be filtered the same way, so
        everything is fetched.
        """
        issue_list = list(issues)
        if field_ids:
            return self.bulk_changelogs([i.id for i in issue_list], field_ids=field_ids)
        batch, missing = split_embedded(issue_list)
        if missing:
            fetched = self.bulk_changelogs(missing)
            batch.histories.update(fetched.histories)
            batch.rejected.extend(fetched.rejected)
        return batch.finish()

    def bulk_changelogs(
        self, issue_ids: Sequence[str], *, field_ids: Sequence[str] | None = None
    ) -> ChangelogBatch:
        """Complete changelogs of many issues without a request per issue.

        ``POST /rest/api/3/changelog/bulkfetch``: up to 1,000 issue ids per call (larger
        inputs are split), optional filter of up to 10 field ids, ``nextPageToken`` paging.
        https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/#api-rest-api-3-changelog-bulkfetch-post
        Falls back to paging each issue's changelog when the site lacks the endpoint
        (404/405) or on Data Center; the fallback is remembered for the client's lifetime.
        """
        if field_ids is not None and len(field_ids) > BULK_MAX_FIELDS:
            raise ValueError(f"at most {BULK_MAX_FIELDS} field ids per bulk changelog request")
        batch = ChangelogBatch()
        ids = [str(i) for i in issue_ids]
        for chunk in chunks(ids, BULK_MAX_ISSUES):
            if self.is_cloud and self._bulk_changelog_supported:
                try:
                    self._bulk_fetch(chunk, field_ids, batch)
                    continue
                except (NotFound, RequestRejected) as exc:
                    if exc.status not in (404, 405):
                        raise
                    log.info("changelog/bulkfetch unavailable (%s); paging per issue", exc.status)
                    self._bulk_changelog_supported = False
            for issue_id in chunk:
                histories, rejected = self._single_changelog(issue_id)
                if field_ids:
                    histories = _filter_fields(histories, field_ids)
                batch.histories[issue_id] = histories
                batch.rejected.extend(rejected)
        for issue_id in ids:
            batch.histories.setdefault(issue_id, [])
        return batch.finish()

    def issue_changelog(self, issue_id_or_key: str) -> list[ChangeHistory]:
        """One issue's complete changelog, oldest first (the per-issue fallback path).

        Cloud: ``GET /rest/api/3/issue/{id}/changelog`` paged by startAt (oldest first).
        https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/#api-rest-api-3-issue-issueidorkey-changelog-get
        """
        histories, rejected = self._single_changelog(issue_id_or_key)
        if rejected:
            first = rejected[0]
            raise BadPayload(
                f"{len(rejected)} change histories of {issue_id_or_key} did not validate: "
                f"{first.error}",
                raw=first.raw_json,
                url=first.source,
            )
        return histories

    def _bulk_fetch(
        self, ids: list[str], field_ids: Sequence[str] | None, batch: ChangelogBatch
    ) -> None:
        path = "/rest/api/3/changelog/bulkfetch"
        token: str | None = None
        seen: set[str] = set()
        while True:
            body: dict[str, Any] = {"issueIdsOrKeys": ids}
            if field_ids:
                body["fieldIds"] = list(field_ids)
            if token:
                body["nextPageToken"] = token
            # Read-only despite POST, so retrying it cannot change anything. Validated whole
            # in one pass unless a part does not (then entry by entry, history by history).
            page, data = self._post_page(path, body, _BULK_PAGE)
            if page is not None:
                for whole in page.issue_change_logs:
                    batch.add(whole.issue_id, whole.change_histories)
                data = page.model_extra or {}
            else:
                data = _envelope(data, "issueChangeLogs", path)
                entries, bad = validate_each(
                    _IssueChangelogsRaw,
                    data["issueChangeLogs"],
                    kind="issue changelog",
                    source=path,
                )
                batch.rejected.extend(bad)
                for entry in entries:
                    good, rejected = validate_each(
                        ChangeHistory, entry.change_histories, kind="change history", source=path
                    )
                    batch.add(entry.issue_id, good)
                    batch.rejected.extend(rejected)
            token = data.get("nextPageToken") or None
            if token is None:
                return
            if token in seen:
                raise BadPayload(
                    "Jira returned the same changelog page token twice; stopping.", raw=token
                )
            seen.add(token)

    def _single_changelog(self, issue_id: str) -> tuple[list[ChangeHistory], list[Rejected]]:
        if not self.is_cloud:
            return self._data_center_changelog(issue_id)
        path = f"/rest/api/3/issue/{issue_id}/changelog"
        start_at = 0
        histories: list[ChangeHistory] = []
        rejected: list[Rejected] = []
        while True:
            data = _envelope(
                self.http.get_json(path, params={"startAt": start_at, "maxResults": 100}),
                "values",
                path,
            )
            values = data["values"]
            good, bad = validate_each(ChangeHistory, values, kind="change history", source=path)
            histories.extend(good)
            rejected.extend(bad)
            start_at += len(values)
            total = data.get("total")
            if (
                not values
                or data.get("isLast") is True
                or (isinstance(total, int) and start_at >= total)
            ):
                return sort_histories(histories), rejected

    def _data_center_changelog(self, issue_id: str) -> tuple[list[ChangeHistory], list[Rejected]]:
        """Data Center: the issue with ``expand=changelog``, which carries all histories.

        https://docs.atlassian.com/software/jira/docs/api/REST/latest/#api/2/issue-getIssue
        (UNVERIFIED that very long changelogs are never truncated here; a short one is
        reported in the log.)
        """
        path = f"/rest/api/2/issue/{issue_id}"
        data = _envelope(
            self.http.get_json(path, params={"expand": "changelog", "fields": "created"}),
            "changelog",
            path,
        )
        raw = data["changelog"] if isinstance(data["changelog"], dict) else {}
        envelope = _EmbeddedEnvelope.model_validate(
            {k: v for k, v in raw.items() if k != "histories"}
        )
        good, bad = validate_each(
            ChangeHistory, raw.get("histories", []), kind="change history", source=path
        )
        if envelope.total is not None and len(good) + len(bad) < envelope.total:
            log.warning(
                "changelog of %s is truncated (%d of %d)", issue_id, len(good), envelope.total
            )
        return sort_histories(good), bad

    # -- dev-status ------------------------------------------------------------------------

    def dev_status_summary(self, issue_id: str) -> DevStatusSummary:
        """Counts of linked pull requests, branches, repositories … per tool.

        Internal API behind Jira's development panel (not in the public REST reference);
        see API_NOTES §1.6 and
        https://developer.atlassian.com/cloud/jira/software/rest/api-group-development-information/
        for the public counterpart. Needs the numeric issue id, not the key.
        """
        path = "/rest/dev-status/latest/issue/summary"
        data = self.http.get_json(path, params={"issueId": issue_id})
        return validate_whole(_DEV_SUMMARY, data, what="dev-status summary", source=path)

    def dev_status_detail(
        self,
        issue_id: str,
        application_type: str = "GitHub",
        data_type: DevDataType = "pullrequest",
    ) -> DevStatusDetail:
        """Pull requests / branches / repositories linked to one issue for one tool.

        ``GET /rest/dev-status/latest/issue/detail?issueId&applicationType&dataType``
        (internal API, API_NOTES §1.6). ``application_type`` must match the instance type
        exactly (GitHub, GitLab, bitbucket, stash, githubenterprise …); take the values from
        :meth:`dev_status_summary` rather than guessing.
        """
        if data_type not in ("pullrequest", "branch", "repository"):
            raise ValueError(f"unknown dev-status data type {data_type!r}")
        path = "/rest/dev-status/latest/issue/detail"
        params = {"issueId": issue_id, "applicationType": application_type, "dataType": data_type}
        response = self.http.request("GET", path, params=params)
        try:
            # Straight from the body's bytes (one request per issue with pull requests).
            return _DEV_DETAIL.validate_json(response.content)
        except ValidationError:
            # The old way, for its errors: not JSON, or JSON of a shape we do not know.
            data = decode_json(response)
            return validate_whole(_DEV_DETAIL, data, what="dev-status detail", source=path)


# -- helpers -------------------------------------------------------------------------------


class _IssueChangelogsRaw(IssueChangelogs):
    """Envelope only: histories are validated one by one afterwards."""

    change_histories: list[Any] = Field(default_factory=list)


class _SearchEnvelope(BaseModel):
    """A search page (Cloud ``/search/jql`` or Data Center ``/search``): its issues, and its
    paging keys (``nextPageToken``/``isLast``, ``total``) kept as sent."""

    model_config = ConfigDict(extra="allow")

    issues: list[Issue]


_SEARCH_ENVELOPE = TypeAdapter(_SearchEnvelope)


class _BulkChangelogPage(BaseModel):
    """A ``changelog/bulkfetch`` page; ``nextPageToken`` kept as sent (an extra key)."""

    model_config = ConfigDict(extra="allow")

    issue_change_logs: list[IssueChangelogs] = Field(alias="issueChangeLogs")


_BULK_PAGE = TypeAdapter(_BulkChangelogPage)


class _EmbeddedEnvelope(EmbeddedChangelog):
    histories: list[Any] = Field(default_factory=list)


_USER = TypeAdapter(User)
_USERS = TypeAdapter(list[User])
_SERVER_INFO = TypeAdapter(ServerInfo)
_PROJECTS = TypeAdapter(list[Project])
_STATUSES = TypeAdapter(list[Status])
_ISSUE_TYPES = TypeAdapter(list[IssueType])
_FIELDS = TypeAdapter(list[FieldInfo])
_DEV_SUMMARY = TypeAdapter(DevStatusSummary)
_DEV_DETAIL = TypeAdapter(DevStatusDetail)


def _envelope(data: Any, key: str, path: str) -> dict[str, Any]:
    """A dict response that carries ``key``; anything else is a BadPayload."""
    if not isinstance(data, dict) or key not in data:
        raise BadPayload(
            f"{path} returned a response without '{key}'; the API may have changed.",
            raw=json.dumps(data, ensure_ascii=False, default=str),
            url=path,
        )
    return data


def _int_field(data: Any, key: str, path: str) -> int:
    value = data.get(key) if isinstance(data, dict) else None
    if not isinstance(value, int) or isinstance(value, bool):
        raw = json.dumps(data, ensure_ascii=False, default=str)
        raise BadPayload(f"{path} returned no integer '{key}'.", raw=raw, url=path)
    return value


def _filter_fields(histories: list[ChangeHistory], field_ids: Sequence[str]) -> list[ChangeHistory]:
    """Mimic bulkfetch's fieldIds filter on the fallback path (match id, else name)."""
    wanted = set(field_ids)
    kept: list[ChangeHistory] = []
    for history in histories:
        items = [i for i in history.items if (i.field_id or i.field) in wanted]
        if items:
            kept.append(history.model_copy(update={"items": items}))
    return kept
