"""The Jira sync checkpoint: what is committed, and where an interrupted run resumes.

Stored as one `checkpoints` row (scope ``jira:issues``) written in the same transaction as
each page's rows. ``watermark`` is the newest ``updated`` among committed issues (pages are
ordered ``updated ASC``, so everything older is committed too); ``run`` is present while a
run is under way and holds its exact JQL and next page token.

A full run split into windows (several page chains at once, pipelines/windows.py) lists
their JQL clauses in ``run.windows``; each window's progress is its own row
(``jira:issues:w<n>``, a `WindowState`) committed with that window's pages. The watermark
is set when every window is done.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

SCOPE = "jira:issues"


@dataclass
class RunState:
    """An interrupted (or current) run: resuming replays this JQL from ``page_token``."""

    mode: str  # "full" | "incremental"
    jql: str
    page_token: str | None = None
    pages: int = 0
    started_at: datetime | None = None
    windows: list[str] | None = None  # the window clauses of a windowed full run

    def to_json(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "jql": self.jql,
            "page_token": self.page_token,
            "pages": self.pages,
            "started_at": _iso(self.started_at),
            "windows": self.windows,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunState:
        windows = data.get("windows")
        return cls(
            mode=str(data["mode"]),
            jql=str(data["jql"]),
            page_token=data.get("page_token"),
            pages=int(data.get("pages", 0)),
            started_at=_parse(data.get("started_at")),
            windows=[str(w) for w in windows] if isinstance(windows, list) else None,
        )


@dataclass
class WindowState:
    """One window's progress: its next page token, and its newest committed ``updated``."""

    jql: str
    query: str | None = None  # the JQL ``page_token`` belongs to, when not ``jql``
    page_token: str | None = None
    pages: int = 0
    done: bool = False
    newest: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "jql": self.jql,
            "query": self.query,
            "page_token": self.page_token,
            "pages": self.pages,
            "done": self.done,
            "newest": _iso(self.newest),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], jql: str) -> WindowState:
        """The stored progress of the window ``jql`` (a fresh one if the row is another's)."""
        if data.get("jql") != jql:
            return cls(jql)
        return cls(
            jql=jql,
            query=data.get("query"),
            page_token=data.get("page_token"),
            pages=int(data.get("pages", 0)),
            done=bool(data.get("done", False)),
            newest=_parse(data.get("newest")),
        )


@dataclass
class Metadata:
    """Site facts reused by incremental runs between metadata refreshes."""

    fetched_at: datetime | None = None
    time_zone: str = "UTC"
    project_keys: list[str] = field(default_factory=list)
    field_names: dict[str, str] = field(default_factory=dict)
    dev_field: str | None = None  # the Development field's id (connectors.jira.development)

    def to_json(self) -> dict[str, Any]:
        return {
            "fetched_at": _iso(self.fetched_at),
            "time_zone": self.time_zone,
            "project_keys": self.project_keys,
            "field_names": self.field_names,
            "dev_field": self.dev_field,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Metadata:
        return cls(
            fetched_at=_parse(data.get("fetched_at")),
            time_zone=str(data.get("time_zone") or "UTC"),
            project_keys=[str(k) for k in data.get("project_keys") or []],
            field_names={str(k): str(v) for k, v in (data.get("field_names") or {}).items()},
            dev_field=data.get("dev_field"),
        )


@dataclass
class SyncState:
    watermark: datetime | None = None
    synced_projects: list[str] = field(default_factory=list)
    run: RunState | None = None
    metadata: Metadata | None = None
    last_full_at: datetime | None = None
    last_reconciled_at: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "watermark": _iso(self.watermark),
            "synced_projects": self.synced_projects,
            "run": self.run.to_json() if self.run else None,
            "metadata": self.metadata.to_json() if self.metadata else None,
            "last_full_at": _iso(self.last_full_at),
            "last_reconciled_at": _iso(self.last_reconciled_at),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SyncState:
        run = data.get("run")
        meta = data.get("metadata")
        return cls(
            watermark=_parse(data.get("watermark")),
            synced_projects=[str(k) for k in data.get("synced_projects") or []],
            run=RunState.from_json(run) if isinstance(run, dict) else None,
            metadata=Metadata.from_json(meta) if isinstance(meta, dict) else None,
            last_full_at=_parse(data.get("last_full_at")),
            last_reconciled_at=_parse(data.get("last_reconciled_at")),
        )


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _parse(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None
