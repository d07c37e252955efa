"""Running the Jira sync against the sandbox simulator, and reading back what it stored."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import text

from connectors.http import RateLimitPolicy, RetryPolicy
from connectors.http.cancel import CancelToken
from connectors.sandbox.catalog import STATUSES
from connectors.sandbox.credentials import DEMO_JIRA
from connectors.sandbox.faults import FaultInjector, FaultScenario
from connectors.sandbox.jira import JiraSimulator
from connectors.sandbox.org import Org
from pulse_console.pipelines.base import Progress, RunContext, RunResult
from pulse_console.pipelines.context import local_run_context
from pulse_console.pipelines.jira.sync import JiraSync
from storage.db import Database
from storage.integrations import secret_name as integration_secret_name
from storage.models import Integration
from storage.tenancy import ensure_client
from tests.connectors.fakes import FakeClock

CLIENT = "acme"
INTEGRATION = "jira-sandbox"
BASE_URL = "https://sandbox.atlassian.net"
STATUS_NAME = {s.id: s.name for s in STATUSES}
FAST_RETRY = RetryPolicy(max_attempts=6, base_delay=0.001, max_delay=0.002)


class MemorySecrets:
    """A secret store in a dict (the real ones are covered by storage tests)."""

    kind = "memory"

    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def get(self, name: str) -> str | None:
        return self.values.get(name)

    def set(self, name: str, value: str) -> None:
        self.values[name] = value

    def delete(self, name: str) -> None:
        self.values.pop(name, None)


def add_integration(
    database: Database,
    *,
    config: dict[str, Any] | None = None,
    base_url: str = BASE_URL,
    name: str = INTEGRATION,
    secrets: MemorySecrets | None = None,
) -> MemorySecrets:
    """A Jira integration of the test client on the sandbox; its token goes to `secrets`
    (a new store when None), which is returned."""
    with database.session() as session:
        client_id = ensure_client(session, CLIENT)
        row = Integration(
            client_id=client_id,
            name=name,
            type="jira",
            base_url=base_url,
            config={"email": DEMO_JIRA.email, **(config or {})},
        )
        session.add(row)
        session.flush()
        row.secret_ref = integration_secret_name(client_id, row.id)
        ref = row.secret_ref
    secrets = secrets or MemorySecrets()
    secrets.set(ref, DEMO_JIRA.api_token)
    return secrets


@dataclass
class Sandbox:
    """An org behind a simulator, with a transport that counts requests."""

    org: Org
    scenario: FaultScenario | None = None
    clock: FakeClock = field(default_factory=FakeClock)
    requests: list[str] = field(default_factory=list)
    before_request: Callable[[httpx.Request], None] | None = None

    def __post_init__(self) -> None:
        self.injector = FaultInjector(
            self.scenario,
            mutate=self.org.apply,
            clock=lambda: self.clock.now().timestamp(),
            sleep=lambda s: None,
        )
        self.simulator = JiraSimulator(self.org, DEMO_JIRA, self.injector)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(f"{request.method} {request.url.path}")
        if self.before_request is not None:
            self.before_request(request)
        return self.simulator.handle(request)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def pipeline(self, *, full: bool = False, **http: Any) -> JiraSync:
        options: dict[str, Any] = {
            "retry": FAST_RETRY,
            "clock": self.clock,
            "rate_limit": RateLimitPolicy(max_wait_seconds=120, default_wait_seconds=1),
            **http,
        }
        return JiraSync(full=full, transport=self.transport(), http_options=options)


def context(
    database: Database,
    secrets: MemorySecrets,
    *,
    progress: list[Progress] | None = None,
    cancel: CancelToken | None = None,
    log: logging.Logger | None = None,
) -> RunContext:
    return local_run_context(
        database,
        secrets,
        CLIENT,
        INTEGRATION,
        report=(progress.append if progress is not None else None),
        cancel=cancel,
        log=log,
        run_id=1,
        clock=lambda: datetime.now(UTC),
    )


def sync(
    sandbox: Sandbox, database: Database, secrets: MemorySecrets, *, full: bool = False
) -> RunResult:
    return sandbox.pipeline(full=full).run(context(database, secrets))


# -- what the simulator holds, and what we stored --------------------------------------


@dataclass(frozen=True)
class Snapshot:
    """Comparable content: issues, transitions and links by their natural keys."""

    issues: dict[str, tuple[Any, ...]]
    transitions: set[tuple[Any, ...]]
    links: set[tuple[Any, ...]]


def expected(org: Org, project_keys: set[str] | None = None) -> Snapshot:
    """What a complete sync of ``org`` must store (active issues only)."""
    issues: dict[str, tuple[Any, ...]] = {}
    transitions: set[tuple[Any, ...]] = set()
    links: set[tuple[Any, ...]] = set()
    for index in range(org.issue_count):
        issue = org.issue(index)
        if issue is None:
            continue
        project = org.projects[issue.project].key
        if project_keys is not None and project not in project_keys:
            continue
        issues[issue.id] = (issue.key, project, STATUS_NAME[issue.status_id], issue.summary)
        for history in issue.histories:
            for n, item in enumerate(history.items):
                transitions.add(
                    (issue.id, str(history.id), n, item.field, item.from_string, item.to_string)
                )
        for pr in org.pull_requests_for_issue(index):
            repo = org.repositories[pr.repository].full_name
            links.add((issue.id, f"https://github.com/{repo}/pull/{pr.number}", repo, pr.number))
    return Snapshot(issues, transitions, links)


def stored(database: Database, integration_id: int | None = None) -> Snapshot:
    """What the database holds (active issues only), of one integration when given."""
    of = {"i": integration_id}
    mine = " AND (CAST(:i AS bigint) IS NULL OR w.integration_id = :i)"
    with database.engine.connect() as conn:
        issues = {
            r[0]: tuple(r[1:])
            for r in conn.execute(
                text(
                    "SELECT external_id, key, project_key, status, summary FROM work_items w"
                    " WHERE active" + mine
                ),
                of,
            )
        }
        transitions = {
            tuple(r)
            for r in conn.execute(
                text(
                    "SELECT w.external_id, t.external_id, t.item_index, t.field, t.from_value,"
                    " t.to_value FROM work_item_transitions t JOIN work_items w"
                    " ON w.id = t.work_item_id WHERE w.active" + mine
                ),
                of,
            )
        }
        links = {
            tuple(r)
            for r in conn.execute(
                text(
                    "SELECT w.external_id, l.url, l.repository, l.pull_request_number"
                    " FROM work_item_links l JOIN work_items w ON w.id = l.work_item_id"
                    " WHERE w.active AND l.kind = 'pull_request'" + mine
                ),
                of,
            )
        }
    return Snapshot(issues, transitions, links)


def table_counts(database: Database) -> dict[str, int]:
    names = (
        "work_items",
        "work_item_transitions",
        "work_item_links",
        "projects",
        "statuses",
        "issue_types",
        "source_fields",
        "source_users",
        "quarantined_payloads",
    )
    with database.engine.connect() as conn:
        return {n: int(conn.execute(text(f"SELECT count(*) FROM {n}")).scalar_one()) for n in names}


def full_dump(database: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every data row (without surrogate ids) — equal dumps mean equal databases."""
    queries = {
        "work_items": "SELECT external_id, key, project_key, type, status, priority, summary,"
        " assignee, created_at, updated_at, resolved_at, custom_fields::text, active"
        " FROM work_items ORDER BY external_id",
        "transitions": "SELECT w.external_id, t.external_id, t.item_index, t.field, t.field_id,"
        " t.from_value, t.to_value, t.from_id, t.to_id, t.author, t.changed_at"
        " FROM work_item_transitions t JOIN work_items w ON w.id = t.work_item_id"
        " ORDER BY 1, 2, 3",
        "links": "SELECT w.external_id, l.kind, l.url, l.repository, l.pull_request_number,"
        " l.evidence, l.detail FROM work_item_links l JOIN work_items w"
        " ON w.id = l.work_item_id ORDER BY 1, 2, 3",
    }
    with database.engine.connect() as conn:
        return {name: [tuple(r) for r in conn.execute(text(q))] for name, q in queries.items()}
