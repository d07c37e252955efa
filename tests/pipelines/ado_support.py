"""Shared set-up for azure_devops_sync tests: an Azure DevOps integration on the simulator,
a RunContext, a snapshot of the loaded rows by natural values, and the same figures computed
straight from the generated organisation."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import Engine, text

from connectors.http import CancelToken, RateLimitPolicy, RetryPolicy
from connectors.sandbox.azure_devops import AdoOrg, AzureDevOpsSimulator
from connectors.sandbox.azure_devops.model import COLUMNS
from connectors.sandbox.azure_devops.render import identity
from pulse_console.pipelines.azure_devops.sync import AzureDevOpsSync
from pulse_console.pipelines.azure_devops.transform import TRACKED, VOTE_STATES
from pulse_console.pipelines.base import IntegrationRef, Progress, RunContext
from storage.db import Database
from storage.integrations import secret_name

ADO_INTEGRATION = 3
PAT = "sandbox-ado-pat-0000"
BASE_URL = "http://ado.sandbox.local/sandbox"
NO_JITTER = RetryPolicy(max_attempts=4, base_delay=0.01, rng=lambda lo, hi: hi)


def add_ado_integration(engine: Engine, config: dict[str, Any] | None = None) -> IntegrationRef:
    config = dict(config or {})
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO integrations (id, client_id, name, type, base_url, config)"
                " VALUES (:i, 1, 'ado', 'azure_devops', :u, CAST(:cfg AS jsonb))"
            ),
            {"i": ADO_INTEGRATION, "u": BASE_URL, "cfg": json.dumps(config)},
        )
    return IntegrationRef(ADO_INTEGRATION, "ado", "azure_devops", BASE_URL, config)


def make_ctx(
    engine: Engine,
    integration: IntegrationRef,
    *,
    token: str = PAT,
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
        log=logging.getLogger("test.azure_devops_sync"),
        secret=lambda name: token if name == secret_name(1, integration.id) else None,
        clock=lambda: datetime.now(UTC),
    )


def simulator(org: AdoOrg, **options: Any) -> AzureDevOpsSimulator:
    return AzureDevOpsSimulator(org, PAT, **options)


def pipeline(handler: Any, **options: Any) -> AzureDevOpsSync:
    options.setdefault("retry", NO_JITTER)
    options.setdefault("rate_limit", RateLimitPolicy(max_wait_seconds=5))
    return AzureDevOpsSync(transport=httpx.MockTransport(handler), **options)


SNAPSHOT_QUERIES = {
    "work_items": "SELECT external_id, project_key, type, status, summary, assignee, active"
    " FROM work_items WHERE source = 'azure_devops'",
    "transitions": "SELECT w.external_id, t.external_id, t.field, t.field_id, t.from_value,"
    " t.to_value FROM work_item_transitions t JOIN work_items w ON w.id = t.work_item_id",
    "pull_requests": "SELECT r.full_name, p.number, p.state, p.author, p.created_at,"
    " p.merged_at, p.closed_at, p.merge_commit_sha"
    " FROM pull_requests p JOIN repositories r ON r.id = p.repository_id",
    "pr_commits": "SELECT p.number, c.sha, c.author, c.authored_at FROM pr_commits c"
    " JOIN pull_requests p ON p.id = c.pull_request_id",
    "pr_reviews": "SELECT p.number, v.author, v.state, v.submitted_at IS NOT NULL"
    " FROM pr_reviews v JOIN pull_requests p ON p.id = v.pull_request_id",
    "pr_comments": "SELECT p.number, m.external_id, m.author, m.kind, m.created_at"
    " FROM pr_comments m JOIN pull_requests p ON p.id = m.pull_request_id",
    "work_item_links": "SELECT w.external_id, l.pull_request_number, l.evidence"
    " FROM work_item_links l JOIN work_items w ON w.id = l.work_item_id",
    "ci_runs": "SELECT external_id, status, result, sha FROM ci_runs",
    "deployments": "SELECT d.external_id, r.full_name, d.environment, d.status, d.sha,"
    " d.created_at, d.finished_at FROM deployments d JOIN repositories r"
    " ON r.id = d.repository_id",
}
_NATURAL = {
    "work_items": "SELECT count(*) FROM work_items",
    "transitions": "SELECT count(*) FROM work_item_transitions",
}


def snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every loaded row by natural values (no surrogate ids), sorted; duplicates visible."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as conn:
        for name, sql in SNAPSHOT_QUERIES.items():
            out[name] = sorted((tuple(r) for r in conn.execute(text(sql))), key=repr)
    return out


def _ms(value: int | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value / 1000, tz=UTC)


def expected(
    org: AdoOrg, *, synced: frozenset[int] = frozenset()
) -> dict[str, list[tuple[Any, ...]]]:
    """The same tables computed from the generator. ``synced``: deleted items a previous
    sync had loaded (they stay, inactive, with their history and links)."""
    name = {i: u.display_name for i, u in enumerate(org.users)}
    alive = {w.id: w for w in org.items.values() if not w.deleted or w.id in synced}
    items = [
        (
            str(w.id),
            org.projects[w.head.project].name,
            w.type,
            w.head.state,
            w.head.title,
            name.get(w.head.assignee) if w.head.assignee is not None else None,
            not w.deleted,
        )
        for w in alive.values()
    ]
    transitions = []
    for w in alive.values():
        for prev, rev in zip(w.revisions, w.revisions[1:], strict=False):
            values = {
                "System.State": (prev.state, rev.state),
                "System.AssignedTo": (
                    name.get(prev.assignee) if prev.assignee is not None else None,
                    name.get(rev.assignee) if rev.assignee is not None else None,
                ),
                "System.BoardColumn": (
                    COLUMNS.get(prev.state, prev.state),
                    COLUMNS.get(rev.state, rev.state),
                ),
                "System.TeamProject": (
                    org.projects[prev.project].name,
                    org.projects[rev.project].name,
                ),
            }
            for ref, field, _ in TRACKED:
                before, after = values[ref]
                if before != after:
                    transitions.append((str(w.id), f"{w.id}.{rev.rev}", field, ref, before, after))
    prs, commits, reviews, comments, links = [], [], [], [], []
    for pr in org.pull_requests:
        repo = org.repos[pr.repo]
        full = f"{org.projects[repo.project].name}/{repo.name}"
        state = {"active": "OPEN", "completed": "MERGED", "abandoned": "CLOSED"}[pr.status]
        closed = _ms(pr.closed_ms)
        prs.append(
            (
                full,
                pr.id,
                state,
                name[pr.author],
                _ms(pr.created_ms),
                closed if state == "MERGED" else None,
                closed if state != "OPEN" else None,
                pr.merge_sha,
            )
        )
        commits += [(pr.id, c.sha, name[c.author], _ms(c.authored_ms)) for c in pr.commits]
        voted = {t.voter for t in pr.threads if t.vote is not None}
        reviews += [(pr.id, name[u], VOTE_STATES[v], u in voted) for u, v in pr.reviewers if v != 0]
        for t in pr.threads:
            for c in t.comments:
                comments.append(
                    (
                        pr.id,
                        f"{pr.id}.{t.id}.{c.id}",
                        name[c.author],
                        "system" if c.system else "issue",
                        _ms(c.published_ms),
                    )
                )
        for wid in pr.work_items:
            if wid in alive:
                links += [(str(wid), pr.id, "artifact_link"), (str(wid), pr.id, "pr_work_items")]
    now = org.now_ms
    runs = [
        (
            str(b.id),
            "completed" if b.finish_ms <= now else "inProgress",
            ("succeeded" if b.succeeded else "failed") if b.finish_ms <= now else None,
            b.sha,
        )
        for b in org.builds
        if b.queue_ms <= now
    ]
    # (external id, build, environment, queued, finished, succeeded) of both kinds
    made = [
        (f"release:{d.id}", d.build, d.environment, d.queued_ms, d.completed_ms, d.succeeded)
        for d in org.release_deployments
    ] + [
        (f"environment:{e.id}", e.build, e.environment, e.queue_ms, e.finish_ms, e.succeeded)
        for e in org.environment_records
    ]
    deployments = []
    for ext, build, environment, queued, finished, ok in made:
        if queued > now:
            continue  # not yet happened
        b = org.build(build)
        repo = org.repos[b.repo]
        done = finished <= now
        status = ("SUCCESS" if ok else "FAILURE") if done else "IN_PROGRESS"
        full = f"{org.projects[repo.project].name}/{repo.name}"
        deployments.append(
            (ext, full, environment, status, b.sha, _ms(queued), _ms(finished) if done else None)
        )
    out: dict[str, list[tuple[Any, ...]]] = {
        "work_items": items,
        "transitions": transitions,
        "pull_requests": prs,
        "pr_commits": commits,
        "pr_reviews": reviews,
        "pr_comments": comments,
        "work_item_links": links,
        "ci_runs": runs,
        "deployments": deployments,
    }
    return {k: sorted(v, key=repr) for k, v in out.items()}


__all__ = ["identity"]
