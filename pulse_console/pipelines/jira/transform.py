"""Jira payloads (validated models) → rows of the canonical schema. Pure functions, no I/O.

People are stored by their stable identity (Cloud ``accountId``, Data Center user key), so
``work_items.assignee`` and ``work_item_transitions.author`` join ``source_users.external_id``.
Custom fields are stored by display name; a name two fields share gets the field id appended.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from connectors.jira.models import (
    ChangeHistory,
    DevStatusDetail,
    FieldInfo,
    Issue,
    IssueType,
    Project,
    Status,
    User,
)
from storage.load import JsonText

SOURCE = "jira"
LINK_KIND_PULL_REQUEST = "pull_request"
LINK_KIND_BRANCH = "branch"
LINK_KIND_COMMIT = "commit"
EVIDENCE_DEV_STATUS = "dev_status"
DEV_STATUS_KINDS = (LINK_KIND_PULL_REQUEST, LINK_KIND_BRANCH, LINK_KIND_COMMIT)

_PR_URL = re.compile(
    r"^https?://[^/]+/(?P<repo>[^/]+/[^/]+?)/(?:pull|pull-requests|merge_requests)/(?P<n>\d+)"
)
_GITLAB_PR_URL = re.compile(r"^https?://[^/]+/(?P<repo>.+?)/-/merge_requests/(?P<n>\d+)")
_REPO_URL = re.compile(r"^https?://[^/]+/(?P<repo>.+?)(?:\.git)?/?$")

Row = dict[str, Any]


@dataclass(frozen=True)
class Tenant:
    """Which client and integration the rows belong to."""

    client_id: int
    integration_id: int

    def stamp(self, row: Row) -> Row:
        return {"client_id": self.client_id, "integration_id": self.integration_id, **row}


# -- metadata --------------------------------------------------------------------------------


def project_row(t: Tenant, project: Project) -> Row:
    return t.stamp(
        {
            "external_id": project.id,
            "key": project.key,
            "name": project.name,
            "raw": _dump(project),
            "active": True,
        }
    )


def status_row(t: Tenant, status: Status) -> Row:
    category = status.status_category
    return t.stamp(
        {
            "external_id": status.id,
            "name": status.name,
            "category": category.key if category else None,
            "category_name": category.name if category else None,
            "raw": _dump(status),
        }
    )


def issue_type_row(t: Tenant, issue_type: IssueType) -> Row:
    return t.stamp(
        {
            "external_id": issue_type.id,
            "name": issue_type.name,
            "subtask": issue_type.subtask,
            "raw": _dump(issue_type),
        }
    )


def field_row(t: Tenant, info: FieldInfo) -> Row:
    schema = info.field_schema.model_dump(mode="json", by_alias=True) if info.field_schema else None
    return t.stamp(
        {"external_id": info.id, "name": info.name, "custom": info.is_custom, "schema": schema}
    )


def user_row(t: Tenant, user: User) -> Row | None:
    identity = user.identity
    if not identity:
        return None
    return t.stamp(
        {
            "external_id": identity,
            "display_name": user.display_name,
            "email": user.email_address,
            "active": user.active if user.active is not None else True,
            "raw": _dump(user),
        }
    )


def custom_field_names(fields: Iterable[FieldInfo]) -> dict[str, str]:
    """``customfield_N`` → the name to store it under (unique even when names collide)."""
    custom = [f for f in fields if f.is_custom]
    counts: dict[str, int] = {}
    for f in custom:
        counts[f.name] = counts.get(f.name, 0) + 1
    return {f.id: f.name if counts[f.name] == 1 else f"{f.name} ({f.id})" for f in custom}


# -- issues ----------------------------------------------------------------------------------


def work_item_row(t: Tenant, issue: Issue, names: Mapping[str, str]) -> Row:
    f = issue.fields
    extra = f.model_extra or {}
    custom = {
        names.get(field_id, field_id): extra[field_id]
        for field_id in sorted(extra)
        if field_id.startswith("customfield_") and extra[field_id] is not None
    }
    # Encoded here, in the fetch thread, by pydantic's serializer in one pass (not a dict
    # the writer would walk and encode again).
    raw = JsonText(issue.model_dump_json(by_alias=True, exclude=_NO_CHANGELOG))
    project, issuetype, status, priority, assignee = (
        f.project,
        f.issuetype,
        f.status,
        f.priority,
        f.assignee,
    )
    # A literal (not `Tenant.stamp`): a row per issue, and per change below.
    return {
        "client_id": t.client_id,
        "integration_id": t.integration_id,
        "source": SOURCE,
        "external_id": issue.id,
        "key": issue.key,
        "project_key": project.key if project else _project_of(issue.key),
        "type": issuetype.name if issuetype else None,
        "status": status.name if status else None,
        "priority": priority.name if priority else None,
        "summary": f.summary,
        "assignee": assignee.identity if assignee else None,
        "created_at": f.created,
        "updated_at": f.updated,
        "resolved_at": f.resolutiondate,
        "custom_fields": custom,
        "raw": raw,
        "active": True,
    }


_NO_CHANGELOG: set[str] = {"changelog"}


def people_of(issue: Issue, histories: Iterable[ChangeHistory]) -> list[User]:
    """Everyone an issue mentions (assignee, reporter, changelog authors)."""
    people = [u for u in (issue.fields.assignee, issue.fields.reporter) if u is not None]
    people.extend(h.author for h in histories if h.author is not None)
    return people


def transition_rows(t: Tenant, work_item_id: int, histories: Iterable[ChangeHistory]) -> list[Row]:
    """One row per changed field of every history (status, assignee and any other field)."""
    client_id, integration_id = t.client_id, t.integration_id
    rows: list[Row] = []
    for history in histories:
        author = history.author.identity if history.author else None
        history_id, changed_at = history.id, history.created
        rows.extend(
            {
                "client_id": client_id,
                "integration_id": integration_id,
                "work_item_id": work_item_id,
                "external_id": history_id,
                "item_index": index,
                "field": item.field,
                "field_id": item.field_id,
                "from_value": item.from_string,
                "to_value": item.to_string,
                "from_id": item.from_,
                "to_id": item.to,
                "author": author,
                "changed_at": changed_at,
            }
            for index, item in enumerate(history.items)
        )
    return rows


# -- dev-status ------------------------------------------------------------------------------


def link_rows(client_id: int, work_item_id: int, detail: DevStatusDetail) -> list[Row]:
    """Pull requests, branches and commits the development panel links to an issue."""
    rows: list[Row] = []

    def add(
        kind: str, url: str | None, repository: str | None, number: int | None, text: str | None
    ) -> None:
        if not url:
            return
        rows.append(
            {
                "client_id": client_id,
                "work_item_id": work_item_id,
                "kind": kind,
                "url": url,
                "repository": repository,
                "pull_request_number": number,
                "evidence": EVIDENCE_DEV_STATUS,
                "detail": text,
            }
        )

    for pr in detail.pull_requests:
        repo, number = parse_pull_request_url(pr.url)
        status = pr.status or ""
        add(
            LINK_KIND_PULL_REQUEST,
            pr.url,
            pr.repository_name or repo,
            number,
            f"{status} {pr.name or ''}".strip() or None,
        )
    for branch in detail.branches:
        repo_url = branch.repository.url if branch.repository else None
        repo_name = branch.repository.name if branch.repository else None
        add(
            LINK_KIND_BRANCH,
            branch.url,
            repo_name or repository_from_url(repo_url),
            None,
            branch.name,
        )
    for repository in detail.repositories:
        name = repository.name or repository_from_url(repository.url)
        for commit in repository.commits:
            add(LINK_KIND_COMMIT, commit.url, name, None, commit.id)
    return rows


def parse_pull_request_url(url: str) -> tuple[str | None, int | None]:
    """``owner/name`` and number of a GitHub/Bitbucket/GitLab pull request URL."""
    match = _GITLAB_PR_URL.match(url) or _PR_URL.match(url)
    if not match:
        return None, None
    return match.group("repo"), int(match.group("n"))


def repository_from_url(url: str | None) -> str | None:
    if not url:
        return None
    match = _REPO_URL.match(url)
    return match.group("repo") if match else None


# -- helpers ---------------------------------------------------------------------------------


def _dump(model: Any) -> dict[str, Any]:
    data: dict[str, Any] = model.model_dump(mode="json", by_alias=True)
    return data


def _project_of(key: str) -> str | None:
    project, sep, _ = key.rpartition("-")
    return project if sep else None
