"""DORA and the PR cycle scoped to an Aha! release or goal, on the hand-computed account of
`tests.metrics.plans_seed` (period 2024-03-04 → 2024-03-18, two weeks).

Which deployment shipped each PR (the chain over every deployment of org/api):
PR 9 and PR 1 → D1 (03-06), PR 2 → D2 (03-09), PR 3 → D3 (03-13). Lead times (first
commit → that deployment): PR 9 72 h, PR 1 24 h, PR 2 72 h, PR 3 48 h. INC-1 is attributed
to D2 (restored in 6 h), INC-2 to D3 (4 h).

Unscoped: deployments D1, D2, D3 → 3 on 3 days → 1.5 days/week; lead median of
24, 48, 72, 72 = 60 h; change failure rate D2, D3 of 3 = 2/3; time to restore median of 6, 4
= 5 h; 4 PRs merged. Weeks: 03-04 D1, D2 (Saturday) → 2; 03-11 D3 → 1.

Release APAY-R-1 (F-1, F-2 → A-1, A-2 → PR 1, PR 2): deployments D1, D2 → 2 → 1.0/week;
lead median of 24, 72 = 48 h; failed D2 → 1/2; time to restore INC-1 only = 6 h; 2 PRs
merged. Weeks: 2, 0.

Goal APAY-G-1 (F-1, F-3 → A-1, A-3 → PR 1, PR 3): deployments D1, D3 → 1.0/week; lead
median of 24, 48 = 36 h; failed D3 → 1/2; time to restore INC-2 only = 4 h. Weeks: 1, 1.

Both (A-1 only → PR 1): D1 → 0.5/week; lead 24 h; no failure → 0; no incident → None.
"""

from __future__ import annotations

import pytest
from sqlalchemy import Connection

from pulse_console.metrics.dora import DoraReport, dora_report
from pulse_console.metrics.pr_cycle import pr_cycle_summary
from pulse_console.metrics.settings import MetricsSettings
from tests.metrics.plans_seed import GOAL, RELEASE, period, seed_account
from tests.metrics.seed import Seeder


def figures(report: DoraReport) -> tuple[object, ...]:
    return (
        report.deployments,
        report.deployment_frequency.value,
        report.lead_time_for_changes.value,
        report.lead_time_for_changes.sample,
        report.change_failure_rate.value,
        report.time_to_restore.value,
        [w.deployments for w in report.weeks],
    )


@pytest.fixture
def account(conn: Connection, seed: Seeder) -> Connection:
    seed_account(conn, seed)
    return conn


def test_unscoped_dora_counts_every_deployment(account: Connection) -> None:
    report = dora_report(account, period())

    assert figures(report) == (3, 1.5, 60, 4, pytest.approx(2 / 3), 5, [2, 1])


def test_dora_of_a_release_counts_the_deployments_that_shipped_its_prs(
    account: Connection,
) -> None:
    report = dora_report(account, period(release=RELEASE))

    assert figures(report) == (2, 1.0, 48, 2, 0.5, 6, [2, 0])
    assert report.time_to_restore.sample == 1


def test_dora_of_a_goal_counts_the_deployments_that_shipped_its_prs(account: Connection) -> None:
    report = dora_report(account, period(goal=GOAL))

    assert figures(report) == (2, 1.0, 36, 2, 0.5, 4, [1, 1])


def test_a_release_and_a_goal_together_keep_the_work_in_both(account: Connection) -> None:
    report = dora_report(account, period(release=RELEASE, goal=GOAL))

    assert figures(report) == (1, 0.5, 24, 1, 0.0, None, [1, 0])


def test_the_pr_cycle_of_a_release_covers_its_prs(account: Connection) -> None:
    settings = MetricsSettings()

    assert pr_cycle_summary(account, period(), settings).merged == 4
    release = pr_cycle_summary(account, period(release=RELEASE), settings)
    assert (release.merged, release.deployed) == (2, 2)
    assert pr_cycle_summary(account, period(goal="APAY-G-404"), settings).merged == 0
