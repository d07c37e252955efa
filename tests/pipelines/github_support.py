"""Shared set-up for github_sync tests: a GitHub integration, the Jira work items the
generator's keys point at, a RunContext, and a comparable snapshot of the loaded rows."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import Engine, text

from connectors.http import CancelToken, RateLimitPolicy, RetryPolicy
from connectors.sandbox.credentials import DEMO_GITHUB_TOKEN
from connectors.sandbox.org import Org
from pulse_console.pipelines.base import IntegrationRef, Progress, RunContext
from pulse_console.pipelines.github.sync import GitHubSync
from storage.db import Database
from storage.integrations import secret_name

GITHUB_INTEGRATION = 2
NO_JITTER = RetryPolicy(max_attempts=4, base_delay=0.01, rng=lambda lo, hi: hi)


def add_github_integration(engine: Engine, config: dict[str, Any]) -> IntegrationRef:
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO integrations (id, client_id, name, type, base_url, config)"
                " VALUES (:i, 1, 'github', 'github', 'https://api.github.com', CAST(:cfg AS jsonb))"
            ),
            {"i": GITHUB_INTEGRATION, "cfg": json.dumps(config)},
        )
    return IntegrationRef(
        GITHUB_INTEGRATION, "github", "github", "https://api.github.com", dict(config)
    )


def seed_work_items(engine: Engine, org: Org) -> None:
    """What a Jira sync would have written: one work item per generated issue."""
    rows = []
    for index in range(org.issue_count):
        issue = org.issue(index)
        if issue is None:
            continue
        rows.append(
            {
                "client_id": 1,
                "integration_id": 1,
                "source": "jira",
                "external_id": issue.id,
                "key": issue.key,
                "project_key": issue.key.split("-")[0],
            }
        )
    from storage.load import upsert
    from storage.models import WorkItem

    with engine.begin() as conn:
        upsert(conn, WorkItem, rows)


def make_ctx(
    engine: Engine,
    integration: IntegrationRef,
    *,
    token: str = DEMO_GITHUB_TOKEN,
    reports: list[Progress] | None = None,
    cancel: CancelToken | None = None,
) -> RunContext:
    sink = reports if reports is not None else []
    return RunContext(
        client_id=1,
        client="acme",
        integration=integration,
        database=Database(engine=engine, embedded=False),
        run_id=1,
        cancel=cancel or CancelToken(),
        report=sink.append,
        log=logging.getLogger("test.github_sync"),
        secret=lambda name: token if name == secret_name(1, integration.id) else None,
        clock=lambda: datetime.now(UTC),
    )


def pipeline(handler: Any, **options: Any) -> GitHubSync:
    options.setdefault("retry", NO_JITTER)
    options.setdefault("rate_limit", RateLimitPolicy(max_wait_seconds=5))
    return GitHubSync(transport=httpx.MockTransport(handler), **options)


SNAPSHOT_QUERIES = {
    "repositories": "SELECT external_id, full_name, url, default_branch, discovered_by, active"
    " FROM repositories",
    "pull_requests": "SELECT p.external_id, r.full_name, p.number, p.title, p.url, p.state,"
    " p.author, p.base_branch, p.head_branch, p.created_at, p.updated_at, p.merged_at,"
    " p.closed_at, p.merge_commit_sha, p.additions, p.deletions, p.changed_files"
    " FROM pull_requests p JOIN repositories r ON r.id = p.repository_id",
    "pr_commits": "SELECT p.external_id, c.sha, c.author, c.authored_at, c.committed_at,"
    " c.message, c.additions, c.deletions FROM pr_commits c"
    " JOIN pull_requests p ON p.id = c.pull_request_id",
    "pr_reviews": "SELECT p.external_id, v.external_id, v.author, v.state, v.submitted_at"
    " FROM pr_reviews v JOIN pull_requests p ON p.id = v.pull_request_id",
    "pr_comments": "SELECT p.external_id, m.external_id, m.author, m.kind, m.created_at"
    " FROM pr_comments m JOIN pull_requests p ON p.id = m.pull_request_id",
    "deployments": "SELECT d.external_id, r.full_name, d.environment, d.status, d.sha, d.ref,"
    " d.created_at, d.finished_at FROM deployments d JOIN repositories r"
    " ON r.id = d.repository_id",
    "work_item_links": "SELECT w.key, l.kind, l.url, l.repository, l.pull_request_number,"
    " l.evidence, l.detail FROM work_item_links l JOIN work_items w ON w.id = l.work_item_id",
    "quarantined_payloads": "SELECT entity, external_id FROM quarantined_payloads",
}


def snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every loaded row by natural values (no surrogate ids), sorted; duplicates visible."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as conn:
        for name, sql in SNAPSHOT_QUERIES.items():
            out[name] = sorted((tuple(r) for r in conn.execute(text(sql))), key=repr)
    return out


def truth(org: Org) -> dict[str, int]:
    """What the generator made: counts the sync must land exactly."""
    from connectors.sandbox import deploy_schedule as ds

    prs = [org.pull_request(j) for j in range(org.pull_request_count)]
    return {
        "pull_requests": len(prs),
        "pr_commits": sum(len(p.commits) for p in prs),
        "pr_reviews": sum(len(p.reviews) for p in prs),
        "pr_comments": sum(len(p.comments) for p in prs),
        "deployments": sum(
            org.deployment_slots(r.index, env)
            for r in org.repositories
            for env in (ds.Environment.PRODUCTION, ds.Environment.STAGING)
        ),
    }
