"""A full Jira sync in windows: per project and by ``updated`` ranges, several chains at
once, each with its own checkpoint; the settings take effect and a crash resumes each."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from connectors.jira import updated_ranges
from connectors.sandbox.org import Org
from pulse_console.pipelines.jira.plan import plan_windows
from pulse_console.pipelines.jira.state import SCOPE
from storage.db import Database
from tests.connectors.fakes import Concurrency
from tests.pipelines.crash_trials import clear_synced_rows
from tests.pipelines.harness import Sandbox, add_integration, expected, stored, sync
from tests.pipelines.test_jira_sync_crash import Crash, assert_exactly_the_org

SEARCH = "POST /rest/api/3/search/jql"


def window_rows(database: Database) -> dict[str, dict[str, object]]:
    with database.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT scope, state FROM checkpoints WHERE scope LIKE :w ORDER BY scope"),
            {"w": f"{SCOPE}:w%"},
        ).all()
    return {str(scope): dict(state) for scope, state in rows}


def committed_pages(database: Database) -> int:
    """Pages the windows' checkpoints say are committed."""
    return sum(int(str(r["pages"])) for r in window_rows(database).values())


def search_threads(sandbox: Sandbox) -> set[str]:
    """Names of the threads that sent search pages (recorded by the sandbox)."""
    names: set[str] = set()

    def hook(request: httpx.Request) -> None:
        if request.url.path.endswith("/search/jql"):
            names.add(threading.current_thread().name)

    sandbox.before_request = hook
    return names


def test_windows_split_per_project_and_run_at_once(database: Database) -> None:
    org = Org(7, "small")  # four projects of about 150 issues
    sandbox = Sandbox(org)
    secrets = add_integration(database, config={"page_size": 25, "windows": 3})
    threads = search_threads(sandbox)

    result = sync(sandbox, database, secrets)

    assert stored(database) == expected(org)
    rows = window_rows(database)
    assert len(rows) == len(org.projects)  # one window per project
    assert all(r["done"] for r in rows.values())
    assert len({t for t in threads if t.startswith("jira-window")}) == 3  # three chains at once
    assert result.stats["issues"] == org.issue_count


def test_one_window_is_one_chain_without_window_checkpoints(database: Database) -> None:
    org = Org(7, "small")
    sandbox = Sandbox(org)
    secrets = add_integration(database, config={"page_size": 25, "windows": 1})
    threads = search_threads(sandbox)

    sync(sandbox, database, secrets)

    assert stored(database) == expected(org)
    assert window_rows(database) == {}
    assert threads == {"jira-pages-0"}  # the one chain, fetched ahead of the writer


def test_a_large_project_is_split_into_updated_ranges(database: Database) -> None:
    org = Org(7, "small")
    sandbox = Sandbox(org)
    secrets = add_integration(database, config={"page_size": 20, "windows": 4, "window_issues": 40})

    sync(sandbox, database, secrets)

    assert stored(database) == expected(org)
    rows = window_rows(database)
    assert len(rows) > 3 * len(org.projects)  # each project of ~150 issues in ~4 ranges
    assert any(
        "updated >=" in str(r["jql"]) and "updated <" in str(r["jql"]) for r in rows.values()
    )
    assert all(r["done"] for r in rows.values())


@pytest.mark.parametrize("kill_at", [50, 70])  # of about 100 (18 before the windows;
# a window hands its first page over after its search, changelog and dev-status calls)
def test_a_crash_resumes_every_window_where_it_was(database: Database, kill_at: int) -> None:
    org = Org(7, "small")
    config = {"page_size": 20, "windows": 4, "window_issues": 60, "reconcile": False}
    secrets = add_integration(database, config=config)
    sync(Sandbox(org), database, secrets)
    pages_uninterrupted = committed_pages(database)
    clear_synced_rows(database.engine)

    sandbox = Sandbox(org)

    def die(request: httpx.Request) -> None:
        # From request `kill_at` on, at the first request after a window committed a page:
        # with up to 64 requests in flight a loaded machine may send 50 before the writer's
        # first commit, and a crash with nothing committed proves no resumption.
        if len(sandbox.requests) >= kill_at and committed_pages(database) > 0:
            raise Crash(f"killed at request {len(sandbox.requests)} (from {kill_at})")

    sandbox.before_request = die
    with pytest.raises(Crash):
        sync(sandbox, database, secrets)
    committed = committed_pages(database)
    assert committed > 0
    sandbox.before_request = None
    sandbox.requests.clear()

    sync(sandbox, database, secrets)

    assert_exactly_the_org(database, org)
    # Each window went on after its last committed page: the resumed run asked only for the
    # pages not committed (no window started over, none planned again).
    assert sandbox.requests.count(SEARCH) == pages_uninterrupted - committed


def test_updated_ranges_partition_the_clause() -> None:
    from datetime import UTC, datetime

    ranges = updated_ranges(
        'project = "A"', datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 1, 5, tzinfo=UTC), 4
    )
    assert ranges == [
        'project = "A" AND updated < "2024/01/02 00:00"',
        'project = "A" AND updated >= "2024/01/02 00:00" AND updated < "2024/01/03 00:00"',
        'project = "A" AND updated >= "2024/01/03 00:00" AND updated < "2024/01/04 00:00"',
        'project = "A" AND updated >= "2024/01/04 00:00"',
    ]


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"windows": 0}, "windows must be between 1 and 16"),
        ({"windows": "many"}, "invalid Jira settings"),
        ({"window_issues": 10}, "window_issues must be at least page_size"),
        ({"max_in_flight": 0}, "max_in_flight must be between 1 and 100"),
        ({"max_in_flight": 101}, "max_in_flight must be between 1 and 100"),
    ],
)
def test_bad_window_settings_are_one_clear_error(config: dict[str, object], message: str) -> None:
    from pulse_console.pipelines.base import IntegrationRef
    from pulse_console.pipelines.jira.options import JiraConfigError, JiraSyncOptions

    ref = IntegrationRef(1, "j", "jira", "https://x.atlassian.net", {"email": "a@b.c", **config})
    with pytest.raises(JiraConfigError, match=message):
        JiraSyncOptions.from_integration(ref)


@pytest.mark.parametrize("max_in_flight", [1, 3])
def test_the_integrations_max_in_flight_bounds_every_window_together(
    database: Database, max_in_flight: int
) -> None:
    org = Org(7, "small")
    sandbox = Sandbox(org)
    config = {"page_size": 25, "windows": 4, "max_in_flight": max_in_flight}
    secrets = add_integration(database, config=config)
    held = Concurrency()
    sandbox.before_request = lambda request: held.hold(0.02)  # overlapping requests

    sync(sandbox, database, secrets)

    assert stored(database) == expected(org)
    assert held.peak == max_in_flight


def test_the_window_counts_do_not_wait_for_the_users_listing(database: Database) -> None:
    # The plan needs only the projects and the site's time zone: its counts are sent while
    # the users (a listing of several pages on a real site) are still being fetched.
    org = Org(7, "small")
    sandbox = Sandbox(org)
    secrets = add_integration(database, config={"page_size": 25, "windows": 4})
    counted = threading.Event()
    users_waited: list[bool] = []

    def hook(request: httpx.Request) -> None:
        if request.url.path.endswith("/search/approximate-count"):
            counted.set()
        elif request.url.path.endswith("/users/search"):
            users_waited.append(counted.wait(timeout=5))  # held until a count was sent

    sandbox.before_request = hook

    sync(sandbox, database, secrets)

    assert stored(database) == expected(org)
    assert users_waited and all(users_waited)


class _Counts:
    """A PlanSource whose projects hold the given issues, updated over January 2024."""

    def __init__(self, counts: dict[str, int]) -> None:
        self.counts = counts

    def approximate_count(self, jql: str) -> int:
        return next(n for key, n in self.counts.items() if f'"{key}"' in jql)

    def updated_bound(self, clause: str, *, newest: bool) -> datetime | None:
        return datetime(2024, 1, 31 if newest else 1, tzinfo=UTC)


def test_the_largest_windows_are_fetched_first() -> None:
    # Alphabetical order would leave the largest project (ZED) for last, one chain alone.
    source = _Counts({"ANA": 300, "BOX": 900, "CAT": 450, "ZED": 2400})

    plan = plan_windows(source, ["ANA", "BOX", "CAT", "ZED"], 1000, "UTC")

    assert plan.total == 4050
    # BOX (900), ZED's three ranges (about 800 each), CAT (450), ANA (300).
    assert plan.clauses[0] == 'project in ("BOX")'
    assert all('"ZED"' in c and "updated" in c for c in plan.clauses[1:4])
    assert plan.clauses[4:] == ['project in ("CAT")', 'project in ("ANA")']


def test_the_plan_asks_every_count_then_every_bound_in_two_steps() -> None:
    """However many projects, a plan takes two round trips: the counts at once, then both
    bounds of every large project at once (each step one ``map_each``)."""
    source = _Counts({"ANA": 300, "BOX": 2500, "CAT": 450, "ZED": 2400})
    steps: list[list[object]] = []

    def map_each(call: Callable[[Any], Any], items: list[Any]) -> list[Any]:
        steps.append(list(items))
        return [call(item) for item in items]

    plan = plan_windows(source, ["ANA", "BOX", "CAT", "ZED"], 1000, "UTC", map_each=map_each)

    assert steps == [
        ["ANA", "BOX", "CAT", "ZED"],
        [("BOX", False), ("BOX", True), ("ZED", False), ("ZED", True)],
    ]
    assert len(plan.clauses) == 2 + 3 + 3
    assert plan.total == 5650
