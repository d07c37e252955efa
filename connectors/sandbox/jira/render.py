"""JSON shapes of Jira Cloud REST v3 objects, built from the org's plain data.

Shapes follow the Jira Cloud platform OpenAPI (fixtures/specs/jira-swagger-v3.json) and the
recorded payloads in fixtures/devlake/jira/ (keys and nesting; values are our own).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from connectors.sandbox.catalog import (
    FIELD_DEVELOPMENT,
    FIELD_RANK,
    FIELD_SPRINT,
    FIELD_STORY_POINTS,
    FIELD_TEAM,
    FIELDS,
    ISSUE_TYPES,
    PRIORITIES,
    STATUSES,
    FieldDef,
    IssueType,
    Status,
)
from connectors.sandbox.issue_detail import SPRINT_LENGTH_MS, sprint_id, sprint_name
from connectors.sandbox.issue_model import History, HistoryItem, Issue
from connectors.sandbox.jira.development import development_field
from connectors.sandbox.org import Org
from connectors.sandbox.people import User
from connectors.sandbox.structure import Project
from connectors.sandbox.timefmt import jira_timestamp

Json = dict[str, Any]
_ISSUE_EXPAND = "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations"
_STATUS_BY_ID = {s.id: s for s in STATUSES}
_PRIORITY_BY_ID = {p.id: p for p in PRIORITIES}
_AVATAR = "https://avatar-management--avatars.server-location.prod.public.atl-paas.net/initials"


def avatar_urls(seed_text: str) -> Json:
    return {f"{n}x{n}": f"{_AVATAR}/{seed_text}.png?size={n}&s={n}" for n in (48, 24, 16, 32)}


def user(base: str, u: User) -> Json:
    """User (GET /rest/api/3/user): e-mail only when the account lets others see it."""
    out: Json = {
        "self": f"{base}/rest/api/3/user?accountId={u.account_id}",
        "accountId": u.account_id,
    }
    if u.email:
        out["emailAddress"] = u.email
    initials = "".join(w[0] for w in u.display_name.split()[:2])
    out.update(
        avatarUrls=avatar_urls(f"{initials}-{u.index % 6}"),
        displayName=u.display_name,
        active=u.active,
        timeZone=u.time_zone,
        accountType=u.account_type,
    )
    return out


def status_category(base: str, s: Status) -> Json:
    cat = s.category
    return {
        "self": f"{base}/rest/api/3/statuscategory/{cat.id}",
        "id": cat.id,
        "key": cat.key,
        "colorName": cat.value[2],
        "name": cat.value[3],
    }


def status(base: str, s: Status) -> Json:
    return {
        "self": f"{base}/rest/api/3/status/{s.id}",
        "description": s.description,
        "iconUrl": f"{base}/images/icons/statuses/generic.png",
        "name": s.name,
        "untranslatedName": s.name,
        "id": s.id,
        "statusCategory": status_category(base, s),
    }


def issue_type(base: str, t: IssueType) -> Json:
    return {
        "self": f"{base}/rest/api/3/issuetype/{t.id}",
        "id": t.id,
        "description": t.description,
        "iconUrl": f"{base}/rest/api/2/universal_avatar/view/type/issuetype/avatar/{t.id}"
        "?size=medium",
        "name": t.name,
        "untranslatedName": t.name,
        "subtask": False,
        "avatarId": int(t.id),
        "hierarchyLevel": t.hierarchy_level,
    }


def project(base: str, org: Org, p: Project, full: bool = True) -> Json:
    out: Json = {
        "self": f"{base}/rest/api/3/project/{p.id}",
        "id": p.id,
        "key": p.key,
        "name": p.name,
        "avatarUrls": {
            f"{n}x{n}": f"{base}/rest/api/3/universal_avatar/view/type/project/avatar/{p.id}"
            f"?size={size}"
            for n, size in ((48, "large"), (24, "small"), (16, "xsmall"), (32, "medium"))
        },
        "projectTypeKey": "software",
        "simplified": p.team_managed,
    }
    if full:
        client = org.clients[p.client]
        out["projectCategory"] = {
            "self": f"{base}/rest/api/3/projectCategory/{client.category_id}",
            "id": client.category_id,
            "name": client.name,
            "description": f"Work for {client.name}",
        }
        out["style"] = "next-gen" if p.team_managed else "classic"
        out["isPrivate"] = False
    return out


def field_def(f: FieldDef) -> Json:
    out: Json = {
        "id": f.id,
        "key": f.id,
        "name": f.name,
        "custom": f.custom,
        "orderable": f.orderable,
        "navigable": f.navigable,
        "searchable": f.searchable,
        "clauseNames": list(f.clause_names),
        "schema": dict(f.schema),
    }
    if f.custom:
        out["untranslatedName"] = f.name
    return out


def history_item(item: HistoryItem) -> Json:
    out: Json = {"field": item.field, "fieldtype": item.fieldtype}
    if item.field_id is not None:
        out["fieldId"] = item.field_id
    out.update(from_=item.from_, fromString=item.from_string, to=item.to, toString=item.to_string)
    out["from"] = out.pop("from_")
    return out


class IssueRenderer:
    """Renders issues for one request (one ``self`` base); user JSON is computed once."""

    def __init__(self, org: Org, base: str) -> None:
        self.org = org
        self.base = base
        self._users: dict[int, Json] = {}
        self._user_texts: dict[int, str] = {}
        self._field_renderers: dict[str, Callable[[Issue], Any]] = {
            "summary": lambda i: i.summary,
            "description": lambda i: _adf(i.description),
            "issuetype": lambda i: issue_type(base, ISSUE_TYPES[i.type]),
            "project": lambda i: project(base, org, org.projects[i.project], full=False),
            "status": lambda i: status(base, _STATUS_BY_ID[i.status_id]),
            "statuscategorychangedate": lambda i: jira_timestamp(i.status_category_changed_ms),
            "priority": lambda i: self._priority(i.priority_id),
            "assignee": lambda i: None if i.assignee is None else self.user(i.assignee),
            "reporter": lambda i: self.user(i.reporter),
            "creator": lambda i: self.user(i.creator),
            "created": lambda i: jira_timestamp(i.created_ms),
            "updated": lambda i: jira_timestamp(i.updated_ms),
            "resolution": lambda i: self._resolution(i),
            "resolutiondate": lambda i: (
                None if i.resolved_ms is None else jira_timestamp(i.resolved_ms)
            ),
            "labels": lambda i: list(i.labels),
            "components": lambda i: [],
            "fixVersions": lambda i: [],
            "issuelinks": lambda i: [],
            "parent": lambda i: None,
            "subtasks": lambda i: [],
            FIELD_STORY_POINTS: lambda i: i.story_points,
            FIELD_SPRINT: self._sprints,
            FIELD_TEAM: lambda i: self._team(i),
            FIELD_RANK: lambda i: i.rank,
            FIELD_DEVELOPMENT: lambda i: development_field(org, i),
        }
        # Fields without a value are still present (null) in *all responses, as in Jira.
        assert set(self._field_renderers) == {f.id for f in FIELDS}

    @property
    def all_field_ids(self) -> list[str]:
        return list(self._field_renderers)

    def user_text(self, index: int) -> str:
        """The user's JSON, encoded once per request: authors repeat across histories."""
        cached = self._user_texts.get(index)
        if cached is None:
            cached = self._user_texts[index] = _dumps(self.user(index))
        return cached

    def history_text(self, h: History) -> str:
        items = _dumps([history_item(it) for it in h.items])
        return (
            f'{{"id":"{h.id}","author":{self.user_text(h.author)},'
            f'"created":"{jira_timestamp(h.created_ms)}","items":{items}}}'
        )

    def issue_text(self, i: Issue, fields: list[str] | None, changelog_cap: int | None) -> str:
        """``issue`` encoded as JSON text; the changelog is spliced in from pre-encoded
        pieces, which is most of the bytes of a search page with ``expand=changelog``."""
        bean = self.issue(i, fields, None)
        if changelog_cap is None:
            return _dumps(bean)
        newest = i.histories[::-1][:changelog_cap]
        histories = ",".join(self.history_text(h) for h in newest)
        changelog = (
            f'"changelog":{{"startAt":0,"maxResults":{len(newest)},"total":{len(i.histories)},'
            f'"histories":[{histories}]}}'
        )
        head = _dumps(bean)
        return f"{head[:-1]},{changelog}}}"

    def user(self, index: int) -> Json:
        cached = self._users.get(index)
        if cached is None:
            cached = self._users[index] = user(self.base, self.org.user(index))
        return cached

    def _priority(self, pid: str) -> Json:
        p = _PRIORITY_BY_ID[pid]
        return {
            "self": f"{self.base}/rest/api/3/priority/{p.id}",
            "iconUrl": f"{self.base}/images/icons/priorities/{p.name.lower()}.svg",
            "name": p.name,
            "id": p.id,
        }

    def _resolution(self, i: Issue) -> Json | None:
        if i.resolution is None:
            return None
        rid, name = i.resolution
        return {
            "self": f"{self.base}/rest/api/3/resolution/{rid}",
            "id": rid,
            "description": "Work has been completed on this issue.",
            "name": name,
        }

    def _team(self, i: Issue) -> Json:
        team = self.org.projects[i.project].team
        return {
            "id": team.id,
            "name": team.name,
            "title": team.name,
            "isShared": True,
            "isVisible": True,
            "isVerified": False,
        }

    def _sprints(self, i: Issue) -> list[Json] | None:
        if not i.sprints:
            return None
        origin = self.org.start_ms
        now = self.org.now_ms
        out = []
        for n in i.sprints:
            start = origin + (n - 1) * SPRINT_LENGTH_MS
            end = start + SPRINT_LENGTH_MS
            state = "closed" if end <= now else ("active" if start <= now else "future")
            sprint: Json = {
                "id": sprint_id(i.project, n),
                "name": sprint_name(self.org.structure, i.project, n),
                "state": state,
                "boardId": 1 + i.project,
                "goal": "",
                "startDate": jira_timestamp(start)[:-5] + "Z",
                "endDate": jira_timestamp(end)[:-5] + "Z",
            }
            if state == "closed":
                sprint["completeDate"] = sprint["endDate"]
            out.append(sprint)
        return out

    def history(self, h: History) -> Json:
        return {
            "id": str(h.id),
            "author": self.user(h.author),
            "created": jira_timestamp(h.created_ms),
            "items": [history_item(it) for it in h.items],
        }

    def issue(
        self, i: Issue, fields: list[str] | None, changelog_cap: int | None, expand: str = ""
    ) -> Json:
        """Issue bean. ``fields=None``: only the id (the enhanced search default).

        ``changelog_cap``: embed the newest ``cap`` histories newest first with ``total``, as
        search's ``expand=changelog`` does; ``None`` embeds no changelog.
        """
        if fields is None and changelog_cap is None:
            return {"id": i.id}
        out: Json = {
            "expand": _ISSUE_EXPAND,
            "id": i.id,
            "self": f"{self.base}/rest/api/3/issue/{i.id}",
            "key": i.key,
        }
        if fields:
            out["fields"] = {
                f: self._field_renderers[f](i) for f in fields if f in self._field_renderers
            }
        if changelog_cap is not None:
            newest = i.histories[::-1][:changelog_cap]
            out["changelog"] = {
                "startAt": 0,
                "maxResults": len(newest),
                "total": len(i.histories),
                "histories": [self.history(h) for h in newest],
            }
        return out


class IssueTexts:
    """Search pages' issues as encoded JSON, kept while the org's version stays the same.

    A search page (``expand=changelog``, ``fields=*navigable``) is mostly the same issues'
    JSON again on every walk; an issue's JSON depends only on the org's state (the version:
    every mutation, the fault scenarios' included, opens a new one, and the clock only moves
    with it, org.py), the site base and the fields/changelog asked for. Serving a page is
    then joining stored text. The payloads are unchanged: what search returns is described
    at https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-search/#api-rest-api-3-search-jql-get
    (API_NOTES §1.1). At most ``limit`` texts are kept (a large org's would not fit).
    """

    def __init__(self, limit: int = 20_000) -> None:
        self.limit = limit
        self._version = -1
        self._texts: dict[tuple[object, ...], str] = {}

    def text(
        self,
        renderer: IssueRenderer,
        version: int,
        index: int,
        fields: tuple[str, ...],
        changelog_cap: int | None,
    ) -> str | None:
        """``renderer.issue_text`` of the org's issue ``index`` at ``version`` (read before
        the issue); None when it does not exist (any more). A kept text spares generating
        the issue again (org.py keeps only the latest few thousand)."""
        if version != self._version:
            if version < self._version:  # read before a newer version: not kept
                return self._render(renderer, index, fields, changelog_cap)
            self._texts, self._version = {}, version
        texts = self._texts  # this version's: a thread that opens a newer one swaps it
        key = (renderer.base, fields, changelog_cap, index)
        cached = texts.get(key)
        if cached is None:
            cached = self._render(renderer, index, fields, changelog_cap)
            if cached is not None and len(texts) < self.limit:
                texts[key] = cached
        return cached

    @staticmethod
    def _render(
        renderer: IssueRenderer, index: int, fields: tuple[str, ...], changelog_cap: int | None
    ) -> str | None:
        issue = renderer.org.issue(index)
        return None if issue is None else renderer.issue_text(issue, list(fields), changelog_cap)


def _dumps(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _adf(text: str) -> Json | None:
    """Descriptions in API v3 are Atlassian Document Format documents."""
    if not text:
        return None
    return {
        "type": "doc",
        "version": 1,
        "content": [
            {"type": "paragraph", "content": [{"type": "text", "text": line}]}
            for line in text.split("\n")
        ],
    }
