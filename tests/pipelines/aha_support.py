"""Running the Aha! sync against the Aha! simulator, and reading back what it stored."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import text

from connectors.aha import new_aha_gate
from connectors.http import RateLimitPolicy
from connectors.http.gate import RateGate
from connectors.sandbox.aha import DEMO_AHA_KEY, AhaOrg, AhaSimulator
from connectors.sandbox.faults import FaultInjector, FaultScenario
from connectors.sandbox.org import Org
from pulse_console.pipelines.aha.sync import AhaSync
from pulse_console.pipelines.base import RunResult
from storage.db import Database
from storage.integrations import secret_name as integration_secret_name
from storage.models import Integration
from storage.tenancy import ensure_client
from tests.connectors.fakes import FakeClock
from tests.pipelines import harness
from tests.pipelines.harness import CLIENT, FAST_RETRY, MemorySecrets, context

BASE_URL = "https://sandbox.aha.io"


def add_aha_integration(
    database: Database, *, config: dict[str, Any] | None = None
) -> MemorySecrets:
    """Client ``acme`` with an Aha! integration named like the Jira harness's one, so the
    shared ``context`` helper finds it."""
    with database.session() as session:
        client_id = ensure_client(session, CLIENT)
        row = Integration(
            client_id=client_id,
            name=harness.INTEGRATION,
            type="aha",
            base_url=BASE_URL,
            config=dict(config or {}),
        )
        session.add(row)
        session.flush()
        row.secret_ref = integration_secret_name(client_id, row.id)
        ref = row.secret_ref
    secrets = MemorySecrets()
    secrets.set(ref, DEMO_AHA_KEY)
    return secrets


@dataclass
class AhaSandbox:
    """An Aha! account behind the simulator (limits enforced on a fake clock)."""

    aha: AhaOrg
    scenario: FaultScenario | None = None
    clock: FakeClock = field(default_factory=FakeClock)
    requests: list[str] = field(default_factory=list)
    before_request: Callable[[httpx.Request], None] | None = None
    history: bool = True
    # The account's one gate, for every run against this sandbox (not the process's: each
    # test's fake clock starts anew).
    gate: RateGate = field(default_factory=new_aha_gate)

    def __post_init__(self) -> None:
        epoch = lambda: self.clock.now().timestamp()  # noqa: E731
        self.injector = FaultInjector(self.scenario, clock=epoch, sleep=lambda s: None)
        self.simulator = AhaSimulator(
            self.aha, faults=self.injector, clock=epoch, history=self.history
        )

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(f"{request.method} {request.url.path}")
        if self.before_request is not None:
            self.before_request(request)
        return self.simulator.handle(request)

    def pipeline(self, *, full: bool = False, **http: Any) -> AhaSync:
        options: dict[str, Any] = {
            "retry": FAST_RETRY,
            "clock": self.clock,
            "rate_limit": RateLimitPolicy(max_wait_seconds=120, default_wait_seconds=1),
            "gate": self.gate,
            **http,
        }
        return AhaSync(full=full, transport=httpx.MockTransport(self.handle), http_options=options)


def sync(
    sandbox: AhaSandbox, database: Database, secrets: MemorySecrets, *, full: bool = False
) -> RunResult:
    return sandbox.pipeline(full=full).run(context(database, secrets))


# -- what the account holds, and what we stored ---------------------------------------------


@dataclass(frozen=True)
class AhaSnapshot:
    items: dict[str, tuple[Any, ...]]
    transitions: set[tuple[Any, ...]]
    links: set[tuple[Any, ...]]
    releases: dict[str, tuple[Any, ...]]
    goals: dict[str, tuple[Any, ...]]
    item_releases: set[tuple[str, str]]
    item_goals: set[tuple[str, str]]


_TYPES = {"feature": "Feature", "requirement": "Requirement", "epic": "Epic", "idea": "Idea"}


def expected(aha: AhaOrg) -> AhaSnapshot:
    """What a complete sync of ``aha`` must store (live records only)."""
    items: dict[str, tuple[Any, ...]] = {}
    transitions: set[tuple[Any, ...]] = set()
    links: set[tuple[Any, ...]] = set()
    item_releases: set[tuple[str, str]] = set()
    item_goals: set[tuple[str, str]] = set()
    for record in aha.records.values():
        if record.ref in aha.deleted:
            continue
        prefix = aha.products[record.product].prefix
        votes = str(record.votes) if record.kind == "idea" else None
        items[record.id] = (
            record.ref,
            prefix,
            _TYPES[record.kind],
            record.status.status,
            record.name,
            votes,
        )
        for n in range(1, len(record.history)):
            before, after = record.history[n - 1], record.history[n]
            transitions.add((record.id, n, before.status, after.status))
        if record.jira_key:
            links.add((record.id, "jira", record.jira_key))
        if record.release:
            item_releases.add((record.id, aha.releases[record.release].id))
        for ref in (*record.goals, *([record.initiative] if record.initiative else [])):
            item_goals.add((record.id, aha.goals[ref].id))
    releases = {
        r.id: (r.ref, aha.products[r.product].prefix, r.released, r.status)
        for r in aha.releases.values()
    }
    goals = {
        g.id: (g.ref, aha.products[g.product].prefix, g.kind, g.status) for g in aha.goals.values()
    }
    return AhaSnapshot(items, transitions, links, releases, goals, item_releases, item_goals)


def stored(database: Database) -> AhaSnapshot:
    """What the database holds (active rows only)."""
    with database.engine.connect() as conn:

        def rows(sql: str) -> list[tuple[Any, ...]]:
            return [tuple(r) for r in conn.execute(text(sql))]

        items = {
            r[0]: r[1:]
            for r in rows(
                "SELECT external_id, key, project_key, type, status, summary,"
                " custom_fields->>'votes' FROM work_items WHERE source = 'aha' AND active"
            )
        }
        active = "JOIN work_items w ON w.id = x.work_item_id WHERE w.active AND w.source = 'aha'"
        transitions = set(
            rows(
                "SELECT w.external_id, split_part(x.external_id, '/', 3)::int, x.from_value,"
                f" x.to_value FROM work_item_transitions x {active} AND x.field = 'status'"
            )
        )
        links = set(rows(f"SELECT w.external_id, x.kind, x.url FROM work_item_links x {active}"))
        releases = {
            r[0]: r[1:]
            for r in rows(
                "SELECT external_id, key, project_key, released, status FROM releases WHERE active"
            )
        }
        goals = {
            r[0]: r[1:]
            for r in rows(
                "SELECT external_id, key, project_key, kind, status FROM goals WHERE active"
            )
        }
        item_releases = set(
            rows(
                "SELECT w.external_id, r.external_id FROM work_item_releases x"
                f" JOIN releases r ON r.id = x.release_id {active}"
            )
        )
        item_goals = set(
            rows(
                "SELECT w.external_id, g.external_id FROM work_item_goals x"
                f" JOIN goals g ON g.id = x.goal_id {active}"
            )
        )
    return AhaSnapshot(items, transitions, links, releases, goals, item_releases, item_goals)


CRASH_PAGE = {"page_size": 10, "windows": 2}
"""Many pages from a small account, so crashes land everywhere; its products at once."""


def crash_account(seed: int) -> AhaOrg:
    """The account the crash trials sync: ~50 list calls with 10-record pages."""
    return AhaOrg(Org(seed, "tiny"), features=100)


def assert_exactly(database: Database, aha: AhaOrg, *, deleted: int = 0) -> None:
    """The account's records and links, each once (plus ``deleted`` inactive work items)."""
    want, got = expected(aha), stored(database)
    assert got == want
    with database.engine.connect() as conn:

        def count(sql: str) -> int:
            return int(conn.execute(text(sql)).scalar_one())

        counts = (
            count("SELECT count(*) FROM work_items WHERE type <> 'Requirement'"),
            count("SELECT count(*) FROM work_item_transitions"),
            count("SELECT count(*) FROM work_item_links"),
            count("SELECT count(*) FROM work_item_releases"),
            count("SELECT count(*) FROM work_item_goals"),
            count("SELECT count(*) FROM releases") + count("SELECT count(*) FROM goals"),
        )
    live = sum(1 for v in want.items.values() if v[2] != "Requirement")
    assert counts[0] == live + deleted
    if not deleted:
        assert counts[1:] == (
            len(want.transitions),
            len(want.links),
            len(want.item_releases),
            len(want.item_goals),
            len(want.releases) + len(want.goals),
        )
