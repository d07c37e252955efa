"""DORA and flow metrics for a client whose only source is Azure DevOps, on a hand-made
organisation synced through the simulator. Every figure below is computed by hand.

Period: Monday 2025-01-06 to Monday 2025-01-20 (two weeks), UTC. One project (Fabrikam
Fiber), one repository, classic releases (Dev, then Production):

- PR 1: first commit 01-06 08:00, merged 01-07 10:00 (merge M1) → build 1 → Production
  01-08 09:00 to 10:00 (success). Lead time 01-06 08:00 → 01-08 10:00 = 50 h.
- PR 2: first commit 01-09 09:00, merged 01-10 12:00 (M2) → build 2 → Production
  01-13 08:00 to 08:30 (success). Lead time 01-09 09:00 → 01-13 08:30 = 95.5 h.
- Build 3 (no PR) → Production 01-14 10:00 to 10:10, failed: not a deployment that counts.
- Bug 3 (Bugs map to incidents) opened 01-08 12:00, closed 01-08 18:00: attributed to the
  01-08 deployment (the latest successful production one before it).

So: 2 deployments on 2 days = 1 deployment day/week; lead time median (50, 95.5) = 72.75 h;
change failure rate 1/2; time to restore 6 h. Flow (New → To Do, Active/Resolved → In
Progress, Closed → Done, proposed from the state categories): story 1 created 01-06 09:00,
Active 14:00, Resolved 01-07 14:00, Closed 01-08 10:00 (lead 49 h, cycle 44 h); story 2
created 01-09 08:00, Active 12:00, Closed 01-13 12:00 (lead 100 h, cycle 96 h); bug 3 created
01-08 12:00, Active 13:00, Closed 18:00 (lead 6 h, cycle 5 h) → medians 49 h and 44 h, three
completed in two weeks = 1.5 a week.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine

from connectors.sandbox.azure_devops import AdoOrg
from connectors.sandbox.azure_devops.model import (
    BuildData,
    CommentData,
    CommitData,
    PullRequestData,
    ReleaseDeploymentData,
    Revision,
    ThreadData,
    WorkItemData,
    sha,
)
from pulse_console.metrics.dora import dora_report
from pulse_console.metrics.filters import MetricFilter
from pulse_console.metrics.flow_metrics import flow_summary
from pulse_console.services import flow_mappings
from storage.db import Database
from storage.testing import seed_tenant
from tests.pipelines.ado_support import add_ado_integration, make_ctx, pipeline, simulator

CLIENT = 1
PERIOD = MetricFilter(CLIENT, datetime(2025, 1, 6), datetime(2025, 1, 20))


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


def _item(wid: int, kind: str, steps: list[tuple[str, str]]) -> WorkItemData:
    revisions = [
        Revision(n + 1, ms(at), 0, 0, state, 1, f"{kind} {wid}")
        for n, (at, state) in enumerate(steps)
    ]
    return WorkItemData(wid, kind, revisions[0].changed_ms, 0, 2, None, "Red", revisions)


def _pr(pid: int, first_commit: str, created: str, merged: str) -> PullRequestData:
    commit = CommitData(sha(1, pid), 1, ms(first_commit), f"work for PR {pid}")
    vote = ThreadData(
        1,
        ms(merged) - 3_600_000,
        (CommentData(1, 2, ms(merged) - 3_600_000, "voted 10", True),),
        10,
        2,
    )
    return PullRequestData(
        id=pid,
        repo=0,
        title=f"PR {pid}",
        author=1,
        created_ms=ms(created),
        closed_ms=ms(merged),
        status="completed",
        source_ref=f"refs/heads/f{pid}",
        merge_sha=sha(2, pid),
        commits=(commit,),
        reviewers=((2, 10),),
        threads=(vote,),
        work_items=(pid,),
    )


@pytest.fixture
def synced(engine: Engine) -> Engine:
    org = AdoOrg(7, "tiny", work_items=0, pull_requests=0, projects=1)
    org.now_ms = ms("2025-02-01T00:00")
    org.items = {
        1: _item(
            1,
            "User Story",
            [
                ("2025-01-06T09:00", "New"),
                ("2025-01-06T14:00", "Active"),
                ("2025-01-07T14:00", "Resolved"),
                ("2025-01-08T10:00", "Closed"),
            ],
        ),
        2: _item(
            2,
            "User Story",
            [
                ("2025-01-09T08:00", "New"),
                ("2025-01-09T12:00", "Active"),
                ("2025-01-13T12:00", "Closed"),
            ],
        ),
        3: _item(
            3,
            "Bug",
            [
                ("2025-01-08T12:00", "New"),
                ("2025-01-08T13:00", "Active"),
                ("2025-01-08T18:00", "Closed"),
            ],
        ),
    }
    org.pull_requests = [
        _pr(1, "2025-01-06T08:00", "2025-01-06T13:00", "2025-01-07T10:00"),
        _pr(2, "2025-01-09T09:00", "2025-01-09T10:00", "2025-01-10T12:00"),
    ]
    for pr in org.pull_requests:
        org.items[pr.id].pull_requests.append(pr.id)
    main = "refs/heads/main"
    org.builds = [
        BuildData(
            1,
            0,
            "api-ci",
            sha(2, 1),
            main,
            ms("2025-01-07T10:05"),
            ms("2025-01-07T10:06"),
            ms("2025-01-07T10:20"),
            True,
        ),
        BuildData(
            2,
            0,
            "api-ci",
            sha(2, 2),
            main,
            ms("2025-01-10T12:05"),
            ms("2025-01-10T12:06"),
            ms("2025-01-10T12:30"),
            True,
        ),
        BuildData(
            3,
            0,
            "api-ci",
            sha(3, 3),
            main,
            ms("2025-01-14T09:00"),
            ms("2025-01-14T09:01"),
            ms("2025-01-14T09:20"),
            True,
        ),
    ]
    deploy = [
        (1, "Dev", "2025-01-07T10:30", "2025-01-07T10:35", True),
        (1, "Production", "2025-01-08T09:00", "2025-01-08T10:00", True),
        (2, "Production", "2025-01-13T08:00", "2025-01-13T08:30", True),
        (3, "Production", "2025-01-14T10:00", "2025-01-14T10:10", False),
    ]
    org.release_deployments = [
        ReleaseDeploymentData(
            n + 1,
            build,
            build,
            env,
            org.environment_ids[env],
            ms(start) - 60_000,
            ms(start),
            ms(end),
            ok,
        )
        for n, (build, env, start, end, ok) in enumerate(deploy)
    ]
    org.environment_records = []
    org.feed = sorted(
        ((w.id, r.rev) for w in org.items.values() for r in w.revisions),
        key=lambda k: (org.items[k[0]].revisions[k[1] - 1].changed_ms, k),
    )
    seed_tenant(engine)
    integration = add_ado_integration(engine)
    pipeline(simulator(org).handle).run(make_ctx(engine, integration))
    flow_mappings.map_issue_type(
        Database(engine=engine, embedded=False), "acme", "Bug", "incident", actor="tests"
    )
    return engine


def test_dora_for_an_azure_devops_only_client(synced: Engine) -> None:
    with synced.connect() as conn:
        r = dora_report(conn, PERIOD)
    assert (r.deployments, r.deployment_days, r.failed_deployments) == (2, 2, 1)
    assert r.deployment_frequency.value == pytest.approx(1.0)
    assert r.lead_time_for_changes.value == pytest.approx(72.75)
    assert r.lead_time_for_changes.sample == 2
    assert r.change_failure_rate.value == pytest.approx(0.5)
    assert r.time_to_restore.value == pytest.approx(6.0)


def test_flow_for_an_azure_devops_only_client(synced: Engine) -> None:
    with synced.connect() as conn:
        s = flow_summary(conn, PERIOD)
    assert s.completed == 3
    assert s.lead_time_median_hours == pytest.approx(49.0)
    assert s.cycle_time_median_hours == pytest.approx(44.0)
    assert s.throughput_per_week == pytest.approx(1.5)
