"""Seeding the canonical tables for metric tests, through `storage.load.upsert` as the
pipelines do. Times given as strings are ISO 8601; a string without a zone is UTC."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.orm import sessionmaker

from pulse_console.services import flow_mappings as flow
from storage import status_spans
from storage.db import Database
from storage.load import upsert
from storage.models import (
    Deployment,
    PrComment,
    PrCommit,
    PrReview,
    PullRequest,
    Repository,
    Status,
    WorkItem,
    WorkItemLink,
    WorkItemTransition,
)

CLIENT, JIRA, GITHUB = 1, 1, 2
CLIENT_NAME, ACTOR = "acme", "tests"  # client 1 is `acme` (tests.conftest.seed_tenant)


def ts(value: str | datetime | None) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    try:
        parsed = datetime.fromisoformat(value.replace(" ", "T"))
    except ValueError:  # DevLake's CSVs write unpadded fields: 2023-4-10 6:51:47
        parsed = datetime.strptime(value, "%Y-%m-%d %H:%M:%S")
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


def joined_database(conn: Connection) -> Database:
    """A `Database` whose sessions are savepoints inside `conn`'s transaction.

    The console's services (which open their own sessions) and the rows seeded on `conn`
    then see each other and roll back together (SQLAlchemy's "joining a Session into an
    external transaction").
    """
    if not conn.in_transaction():
        conn.begin()
    database = Database(engine=conn.engine, embedded=False)
    database.sessions = sessionmaker(
        bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    return database


@dataclass
class Seeder:
    conn: Connection
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    database: Database = field(init=False)  # the console's services, inside `conn`

    def __post_init__(self) -> None:
        self.database = joined_database(self.conn)
        self.conn.execute(
            text(
                "INSERT INTO integrations (id, client_id, name, type, base_url)"
                " VALUES (:i, :c, 'github', 'github', 'https://api.github.com')"
                " ON CONFLICT DO NOTHING"
            ),
            {"i": GITHUB, "c": CLIENT},
        )

    def _next(self) -> str:
        return str(next(self._ids))

    # -- Jira side --------------------------------------------------------------------------

    def status(self, name: str, category: str, *, integration: int = JIRA) -> None:
        upsert(
            self.conn,
            Status,
            [
                {
                    "client_id": CLIENT,
                    "integration_id": integration,
                    "external_id": f"{name}-{category}",
                    "name": name,
                    "category": category,
                }
            ],
        )

    def item(
        self,
        key: str,
        created: str,
        changes: list[tuple[str, str]] = (),  # type: ignore[assignment]
        *,
        first: str = "To Do",
        type: str = "Story",
        project: str | None = None,
        team: str | None = None,
        active: bool = True,
        resolved: str | None = None,
    ) -> int:
        """A work item created in status `first`, then moved to each (at, status) in order."""
        statuses = [first, *(to for _, to in changes)]
        result = upsert(
            self.conn,
            WorkItem,
            [
                {
                    "client_id": CLIENT,
                    "integration_id": JIRA,
                    "source": "jira",
                    "external_id": key,
                    "key": key,
                    "project_key": project or key.split("-")[0],
                    "type": type,
                    "status": statuses[-1],
                    "summary": f"summary of {key}",
                    "created_at": ts(created),
                    "resolved_at": ts(resolved),
                    "custom_fields": {"Team": team} if team else {},
                    "active": active,
                }
            ],
            return_ids=True,
        )
        assert result.ids is not None
        item_id = next(iter(result.ids.values()))
        rows: list[dict[str, Any]] = [
            {
                "client_id": CLIENT,
                "integration_id": JIRA,
                "work_item_id": item_id,
                "external_id": f"{key}-h{n}",
                "item_index": 0,
                "field": "status",
                "from_value": statuses[n],
                "to_value": to,
                "changed_at": ts(at),
            }
            for n, (at, to) in enumerate(changes)
        ]
        if rows:
            upsert(self.conn, WorkItemTransition, rows)
        status_spans.refresh_items(self.conn, [item_id])  # as the Jira sync does per page
        return item_id

    def board(self) -> dict[str, int]:
        """To Do → In Progress → Review (in progress, waiting) → Done, with the statuses
        To Do, In Progress, In Review and Done mapped onto them; the steps' ids by name."""
        steps = {
            "To Do": self.step("To Do", "todo"),
            "In Progress": self.step("In Progress", "in_progress"),
            "Review": self.step("Review", "in_progress", is_active_work=False),
            "Done": self.step("Done", "done"),
        }
        for status, step in [
            ("To Do", "To Do"),
            ("In Progress", "In Progress"),
            ("In Review", "Review"),
            ("Done", "Done"),
        ]:
            self.map_status(status, steps[step])
        return steps

    # -- flow mappings, through the console's service ----------------------------------------
    def step(self, name: str, category: str, *, is_active_work: bool = True) -> int:
        return flow.add_step(
            self.database, CLIENT_NAME, name, category, actor=ACTOR, is_active_work=is_active_work
        )

    def map_status(self, status: str, step_id: int, *, issue_type: str | None = None) -> int:
        return flow.map_status(
            self.database, CLIENT_NAME, status, step_id, issue_type=issue_type, actor=ACTOR
        )

    def map_issue_type(self, issue_type: str, kind: str) -> int:
        return flow.map_issue_type(self.database, CLIENT_NAME, issue_type, kind, actor=ACTOR)

    def link(self, item_id: int, repository: str, number: int | None = None) -> None:
        upsert(
            self.conn,
            WorkItemLink,
            [
                {
                    "client_id": CLIENT,
                    "work_item_id": item_id,
                    "kind": "pull_request",
                    "url": f"https://github.com/{repository}/pull/{number}",
                    "repository": repository,
                    "pull_request_number": number,
                    "evidence": "dev_status",
                }
            ],
        )

    # -- GitHub side ------------------------------------------------------------------------

    def repo(self, full_name: str, *, active: bool = True) -> int:
        result = upsert(
            self.conn,
            Repository,
            [
                {
                    "client_id": CLIENT,
                    "integration_id": GITHUB,
                    "external_id": full_name,
                    "full_name": full_name,
                    "active": active,
                }
            ],
            return_ids=True,
        )
        assert result.ids is not None
        return next(iter(result.ids.values()))

    def pr(
        self,
        repo_id: int,
        number: int,
        created: str,
        merged: str | None,
        *,
        author: str | None = "alice",
        commits: list[str] = (),  # type: ignore[assignment]
        reviews: list[tuple[str, str]] = (),  # type: ignore[assignment]
        comments: list[tuple[str, str | None]] = (),  # type: ignore[assignment]
        external_id: str | None = None,
        active: bool = True,
    ) -> int:
        result = upsert(
            self.conn,
            PullRequest,
            [
                {
                    "client_id": CLIENT,
                    "integration_id": GITHUB,
                    "repository_id": repo_id,
                    "external_id": external_id or f"{repo_id}-{number}",
                    "number": number,
                    "title": f"PR {number}",
                    "state": "MERGED" if merged else "OPEN",
                    "author": author,
                    "created_at": ts(created),
                    "merged_at": ts(merged),
                    "merge_commit_sha": f"merge-{repo_id}-{number}" if merged else None,
                    "active": active,
                }
            ],
            return_ids=True,
        )
        assert result.ids is not None
        pr_id = next(iter(result.ids.values()))
        if commits:
            upsert(
                self.conn,
                PrCommit,
                [
                    {
                        "client_id": CLIENT,
                        "integration_id": GITHUB,
                        "pull_request_id": pr_id,
                        "sha": f"{pr_id}-c{n}",
                        "authored_at": ts(at),
                        "committed_at": ts(at),
                    }
                    for n, at in enumerate(commits)
                ],
            )
        if reviews:
            upsert(
                self.conn,
                PrReview,
                [
                    {
                        "client_id": CLIENT,
                        "integration_id": GITHUB,
                        "pull_request_id": pr_id,
                        "external_id": f"{pr_id}-r{n}",
                        "author": who,
                        "state": "APPROVED",
                        "submitted_at": ts(at),
                    }
                    for n, (at, who) in enumerate(reviews)
                ],
            )
        if comments:
            upsert(
                self.conn,
                PrComment,
                [
                    {
                        "client_id": CLIENT,
                        "integration_id": GITHUB,
                        "pull_request_id": pr_id,
                        "external_id": f"{pr_id}-m{n}",
                        "author": who,
                        "kind": "issue",
                        "created_at": ts(at),
                    }
                    for n, (at, who) in enumerate(comments)
                ],
            )
        return pr_id

    def deploy(
        self,
        repo_id: int,
        started: str,
        finished: str | None = None,
        *,
        environment: str = "production",
        status: str = "SUCCESS",
        external_id: str | None = None,
        sha: str | None = None,
    ) -> int:
        result = upsert(
            self.conn,
            Deployment,
            [
                {
                    "client_id": CLIENT,
                    "integration_id": GITHUB,
                    "repository_id": repo_id,
                    "external_id": external_id or f"d{self._next()}",
                    "environment": environment,
                    "status": status,
                    "sha": sha,
                    "created_at": ts(started),
                    "finished_at": ts(finished or started),
                }
            ],
            return_ids=True,
        )
        assert result.ids is not None
        return next(iter(result.ids.values()))

    def setting(self, key: str, value: Any) -> None:
        import json

        self.conn.execute(
            text(
                "INSERT INTO settings (client_id, key, value) VALUES (:c, :k, CAST(:v AS jsonb))"
                " ON CONFLICT (coalesce(client_id, 0), key) DO UPDATE SET value = EXCLUDED.value"
            ),
            {"c": CLIENT, "k": key, "v": json.dumps(value)},
        )
