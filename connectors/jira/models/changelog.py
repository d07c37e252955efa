"""Change histories: embedded in search results, paged per issue, or bulk-fetched."""

from __future__ import annotations

from pydantic import Field

from connectors.jira.models.base import JiraModel
from connectors.jira.models.users import User
from connectors.jira.timestamps import JiraDateTime


class ChangeItem(JiraModel):
    """One field change. ``fieldId`` is absent for some items (Link, RemoteIssueLink) and
    custom fields carry their display name in ``field`` (real DevLake captures)."""

    field: str
    fieldtype: str | None = Field(default=None, alias="fieldtype")
    field_id: str | None = None
    from_: str | None = Field(default=None, alias="from")
    from_string: str | None = None
    to: str | None = None
    to_string: str | None = None


class ChangeHistory(JiraModel):
    """One change event (who, when, which fields). ``author`` is absent for anonymous and
    some automation changes."""

    id: str
    created: JiraDateTime
    author: User | None = None
    items: list[ChangeItem] = Field(default_factory=list)


class EmbeddedChangelog(JiraModel):
    """``changelog`` inside a search result (``expand=changelog``).

    Enhanced search embeds only the newest histories (newest first); ``total`` tells how many
    exist, so completeness is checkable without another request.
    """

    start_at: int = 0
    max_results: int | None = None
    total: int | None = None
    histories: list[ChangeHistory] = Field(default_factory=list)

    @property
    def is_complete(self) -> bool:
        return self.start_at == 0 and self.total is not None and len(self.histories) >= self.total


class IssueChangelogs(JiraModel):
    """One issue's entry in a bulk-fetch page."""

    issue_id: str
    change_histories: list[ChangeHistory] = Field(default_factory=list)
