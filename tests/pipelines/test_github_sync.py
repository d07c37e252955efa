"""github_sync against the simulator and a real PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, text

from connectors.errors import Cancelled, RateLimited
from connectors.http import CancelToken, RateLimitPolicy
from connectors.sandbox.faults import FaultScenario, RateLimit
from connectors.sandbox.github import GitHubSimulator
from connectors.sandbox.mutations import MutationPlan
from connectors.sandbox.org import Org
from connectors.sandbox.server import SandboxServer
from pulse_console.pipelines.base import Progress
from pulse_console.pipelines.github.sync import GitHubSync
from storage.checkpoints import load_checkpoint
from tests.connectors.fakes import FakeClock
from tests.pipelines.github_support import (
    add_github_integration,
    make_ctx,
    pipeline,
    seed_work_items,
    snapshot,
    truth,
)

ALL_ORGS = {"orgs": ["northwind-eng", "globex-eng"], "deployments": "graphql"}


@pytest.fixture(scope="module")
def small_org() -> Org:
    return Org(7, "small")


def _sync(engine: Engine, org: Org, config: dict[str, Any], **options: Any) -> Any:
    integration = add_github_integration(engine, config)
    sim = GitHubSimulator(org, points_per_hour=1_000_000)
    return pipeline(sim.handle, **options).run(make_ctx(engine, integration)), integration, sim


def test_full_sync_lands_exactly_what_was_generated_and_links_match(
    tenant: Engine, small_org: Org
) -> None:
    seed_work_items(tenant, small_org)
    result, _, _ = _sync(tenant, small_org, ALL_ORGS)
    rows = snapshot(tenant)
    expected = truth(small_org)
    for table, count in expected.items():
        assert len(rows[table]) == count, table
    assert result.stats["pull_requests"] == expected["pull_requests"]
    assert len(rows["repositories"]) == len(small_org.repositories)
    assert {r[4] for r in rows["repositories"]} == {"pattern"}
    assert rows["quarantined_payloads"] == []
    # Every PR's children are exactly the generator's.
    prs = {small_org.pull_request(j).node_id: small_org.pull_request(j)
           for j in range(small_org.pull_request_count)}  # fmt: skip
    commits: dict[str, set[str]] = {}
    for ext, sha, *_ in rows["pr_commits"]:
        commits.setdefault(ext, set()).add(sha)
    assert all(commits[n] == {c.oid for c in p.commits} for n, p in prs.items())
    states = {r[0]: r[5] for r in rows["pull_requests"]}
    assert all(states[n] == p.state for n, p in prs.items())
    kinds = {(r[1], r[3]) for r in rows["pr_comments"]}
    assert {k for _, k in kinds} <= {"issue", "review"}
    # Links: precision and recall against the keys the generator put in the PRs.
    intended = {
        (small_org.repositories[p.repository].full_name, p.number, p.jira_key)
        for p in prs.values()
        if p.jira_key
    }
    linked = {(r[3], r[4], r[0]) for r in rows["work_item_links"]}
    true_pos = len(intended & linked)
    precision = true_pos / len(linked)
    recall = true_pos / len(intended)
    print(f"\nlinks: precision {precision:.3f} recall {recall:.3f} ({len(intended)} intended)")
    assert precision == 1.0 and recall == 1.0
    evidence = {r[5] for r in rows["work_item_links"]}
    assert evidence == {"title", "branch", "commit"}
    # Lead time: every deployment's sha is a merged PR's merge commit (or the initial one).
    with tenant.connect() as conn:
        shipped = conn.execute(
            text(
                "SELECT count(*) FROM deployments d JOIN pull_requests p"
                " ON p.merge_commit_sha = d.sha AND p.repository_id = d.repository_id"
            )
        ).scalar_one()
    assert shipped > 0.9 * len(rows["deployments"])
    assert result.stats["points_used"] > 0 and result.api_calls > 0


def test_incremental_run_fetches_only_what_changed(tenant: Engine, small_org: Org) -> None:
    org = Org(7, "small")  # mutated below; not the shared one
    integration = add_github_integration(tenant, ALL_ORGS)
    sim = GitHubSimulator(org, points_per_hour=1_000_000)
    first = pipeline(sim.handle).run(make_ctx(tenant, integration))
    before = snapshot(tenant)
    again = pipeline(sim.handle).run(make_ctx(tenant, integration))
    assert again.stats["pull_requests"] <= len(org.repositories) * 2  # ties at the watermark
    assert again.stats["graphql_calls"] < first.stats["graphql_calls"] / 4
    assert snapshot(tenant) == before
    report = org.apply(MutationPlan(force_push=5))
    changed = pipeline(sim.handle).run(make_ctx(tenant, integration))
    assert 5 <= changed.stats["pull_requests"] <= 5 + len(org.repositories) * 2
    after = snapshot(tenant)
    pushed = set(report.force_pushed)
    assert pushed
    expected = truth(org)
    assert len(after["pull_requests"]) == expected["pull_requests"]
    assert len(after["pr_commits"]) == expected["pr_commits"]  # old commits replaced
    for j in range(org.pull_request_count):
        pr = org.pull_request(j)
        if pr.force_pushed_ms:
            got = {r[1] for r in after["pr_commits"] if r[0] == pr.node_id}
            assert got == {c.oid for c in pr.commits}


def test_checkpoint_shape_per_repository(tenant: Engine, small_org: Org) -> None:
    _sync(tenant, small_org, {"repos": [small_org.repositories[0].full_name]})
    with tenant.connect() as conn:
        state = load_checkpoint(conn, 1, 2, f"repo:{small_org.repositories[0].full_name}")
    assert set(state) >= {"pull_requests", "deployments"}
    prs = state["pull_requests"]
    assert prs["cursor"] is None and prs["high"] is None and prs["watermark"].endswith("Z")


def test_primary_rate_limit_parks_with_reset_and_resumes(tenant: Engine, small_org: Org) -> None:
    clock = FakeClock()
    integration = add_github_integration(
        tenant, {"repos": [r.full_name for r in small_org.repositories], "deployments": "off"}
    )
    sim = GitHubSimulator(small_org, points_per_hour=25, clock=lambda: clock.now().timestamp())
    job = pipeline(sim.handle, clock=clock, rate_limit=RateLimitPolicy(max_wait_seconds=60))
    reports: list[Progress] = []
    with pytest.raises(RateLimited) as info:
        job.run(make_ctx(tenant, integration, reports=reports))
    reset = info.value.reset_at
    assert reset is not None and reset > clock.now()
    partial = snapshot(tenant)
    assert 0 < len(partial["pull_requests"]) < small_org.pull_request_count
    rounds = 0
    while True:  # the engine would park the job until reset_at, then run it again
        clock.advance((reset - clock.now()).total_seconds() + 1)
        try:
            job.run(make_ctx(tenant, integration, reports=reports))
            break
        except RateLimited as again:
            assert again.reset_at is not None
            reset = again.reset_at
            rounds += 1
            assert rounds < 20
    rows = snapshot(tenant)
    assert len(rows["pull_requests"]) == small_org.pull_request_count
    assert len(rows["pr_commits"]) == truth(small_org)["pr_commits"]


def test_secondary_limit_waits_are_visible_with_reset_time(tenant: Engine, small_org: Org) -> None:
    clock = FakeClock()
    integration = add_github_integration(
        tenant,
        {"repos": [small_org.repositories[0].full_name], "deployments": "off",
         "page_sizes": {"prs": 10}},
    )  # fmt: skip
    faults = FaultScenario(rate_limit=RateLimit(after_requests=2, window_seconds=30))
    sim = GitHubSimulator(small_org, faults, clock=lambda: clock.now().timestamp())
    job = pipeline(sim.handle, clock=clock, rate_limit=RateLimitPolicy(max_wait_seconds=60))
    reports: list[Progress] = []
    result = job.run(make_ctx(tenant, integration, reports=reports))
    assert result.rate_limit_waits >= 1
    waits = [r for r in reports if r.rate_limit_until is not None and "waiting" in r.message]
    assert waits and "UTC" in waits[0].message
    assert len(snapshot(tenant)["pull_requests"]) == len(
        small_org.repository_pull_requests(small_org.repositories[0].index)
    )


def test_cancel_stops_between_batches_with_a_consistent_checkpoint(
    tenant: Engine, small_org: Org
) -> None:
    integration = add_github_integration(
        tenant,
        {"repos": [small_org.repositories[0].full_name], "page_sizes": {"prs": 10},
         "deployments": "off"},
    )  # fmt: skip
    sim = GitHubSimulator(small_org, points_per_hour=1_000_000)
    cancel = CancelToken()
    commits = 0

    def after_commit(scope: str) -> None:
        nonlocal commits
        commits += 1
        if commits == 2:
            cancel.cancel()

    with pytest.raises(Cancelled):
        pipeline(sim.handle, after_commit=after_commit).run(
            make_ctx(tenant, integration, cancel=cancel)
        )
    with tenant.connect() as conn:
        state = load_checkpoint(conn, 1, 2, f"repo:{small_org.repositories[0].full_name}")
    assert state["pull_requests"]["cursor"] and len(snapshot(tenant)["pull_requests"]) == 20
    pipeline(sim.handle).run(make_ctx(tenant, integration))
    assert len(snapshot(tenant)["pull_requests"]) == 47


def test_workflow_runs_as_deployments_and_discovery_sources(tenant: Engine, small_org: Org) -> None:
    repo = small_org.repositories[0].full_name
    with tenant.begin() as conn:  # a dev-status link the Jira sync wrote
        wid = conn.execute(
            text(
                "INSERT INTO work_items (client_id, integration_id, source, external_id, key)"
                " VALUES (1, 1, 'jira', '1', 'X-1') RETURNING id"
            )
        ).scalar_one()
        conn.execute(
            text(
                "INSERT INTO work_item_links (client_id, work_item_id, kind, url, repository,"
                " pull_request_number, evidence) VALUES (1, :w, 'pull_request', :u, :r, 1,"
                " 'dev_status')"
            ),
            {"w": wid, "u": f"https://github.com/{small_org.repositories[2].full_name}/pull/1",
             "r": small_org.repositories[2].full_name},
        )  # fmt: skip
    config = {
        "repos": [repo],
        "orgs": ["northwind-eng"],
        "patterns": ["inventory-*"],
        "deployments": "actions",
        "page_sizes": {"prs": 50},
    }
    _sync(tenant, small_org, config)
    rows = snapshot(tenant)
    how = {r[1]: r[4] for r in rows["repositories"]}
    assert how[repo] == "explicit"
    assert how[small_org.repositories[1].full_name] == "pattern"
    assert how[small_org.repositories[2].full_name] == "dev_status"
    assert len(how) == 3
    runs = [r for r in rows["deployments"] if r[0].startswith("run:")]
    assert runs and {r[2] for r in runs} == {"production", "staging"}
    assert {r[3] for r in runs} <= {"SUCCESS", "FAILURE"}


def test_sync_over_the_socket_server(tenant: Engine) -> None:
    org = Org(7, "tiny")
    sim = GitHubSimulator(org)
    with SandboxServer({"github": sim.handle}) as server:
        integration = add_github_integration(tenant, {"orgs": [org.clients[0].github_org]})
        integration = type(integration)(
            integration.id, integration.name, integration.type,
            server.base_urls["github"], integration.config,
        )  # fmt: skip
        result = GitHubSync().run(make_ctx(tenant, integration))
    assert result.stats["pull_requests"] == org.pull_request_count
    assert len(snapshot(tenant)["deployments"]) == truth(org)["deployments"]


_ = timedelta


@pytest.mark.parametrize("windows", [1, 3])
def test_the_windows_setting_walks_that_many_repositories_at_once(
    tenant: Engine, small_org: Org, windows: int
) -> None:
    import threading

    integration = add_github_integration(tenant, {**ALL_ORGS, "windows": windows})
    sim = GitHubSimulator(small_org, points_per_hour=1_000_000)
    threads: set[str] = set()

    def handle(request: Any) -> Any:
        if request.url.path.endswith("/graphql"):
            threads.add(threading.current_thread().name)
        return sim.handle(request)

    result = pipeline(handle).run(make_ctx(tenant, integration))

    assert len(small_org.repositories) > windows
    walkers = {name for name in threads if name.startswith("github-repo")}
    assert len(walkers) == windows
    assert result.stats["pull_requests"] == truth(small_org)["pull_requests"]
    assert len(snapshot(tenant)["pull_requests"]) == truth(small_org)["pull_requests"]


def test_windows_out_of_range_is_one_clear_error() -> None:
    from pulse_console.pipelines.github.options import GitHubConfigError, GitHubSyncConfig

    with pytest.raises(GitHubConfigError, match="windows must be a whole number from 1 to 16"):
        GitHubSyncConfig.from_dict({"windows": 0})
