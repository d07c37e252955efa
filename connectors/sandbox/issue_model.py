"""Plain data of one generated Jira issue and its changelog (no JSON shapes here)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class HistoryItem:
    """One changed field, as in Jira's ChangeDetails."""

    field: str
    fieldtype: str  # "jira" | "custom"
    field_id: str | None  # absent for some items in real payloads (e.g. Link)
    from_: str | None
    from_string: str | None
    to: str | None
    to_string: str | None


@dataclass(frozen=True, slots=True)
class History:
    """One changelog entry: who changed what, when."""

    id: int
    author: int  # user index; -1 is the automation app
    created_ms: int
    items: tuple[HistoryItem, ...]


@dataclass(frozen=True, slots=True)
class Issue:
    index: int
    id: str
    key: str
    project: int
    type: int
    summary: str
    description: str
    status_id: str
    priority_id: str
    reporter: int
    creator: int
    assignee: int | None
    labels: tuple[str, ...]
    story_points: float | None
    sprints: tuple[int, ...]  # sprint numbers within the project
    rank: str
    resolution: tuple[str, str] | None  # (id, name)
    created_ms: int
    updated_ms: int
    resolved_ms: int | None
    status_category_changed_ms: int
    histories: tuple[History, ...]  # oldest first

    @property
    def issue_id(self) -> int:
        return int(self.id)
