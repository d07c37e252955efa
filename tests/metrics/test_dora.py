"""DORA metrics on a hand-computed organisation: PRs without deployments, deployments
without PRs, incidents without a deployment, the first-deployment bound, inactive records,
period boundaries and the benchmark year.

Period: Monday 2024-03-04 to Monday 2024-03-18 (two ISO weeks), all times UTC.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import Connection, text

from pulse_console.metrics.delivery_overview import delivery_overview
from pulse_console.metrics.dora import delivery_snapshot, dora_report, incident_attributions
from pulse_console.metrics.filters import MetricFilter
from pulse_console.metrics.pr_cycle import pr_cycle_summary, pr_cycles
from pulse_console.metrics.settings import MetricsSettings
from tests.metrics.seed import CLIENT, Seeder

PERIOD = MetricFilter(CLIENT, datetime(2024, 3, 4), datetime(2024, 3, 18))


@pytest.fixture
def org(conn: Connection, seed: Seeder) -> dict[str, int]:
    api, web, old = seed.repo("org/api"), seed.repo("org/web"), seed.repo("org/old", active=False)
    ids = {"api": api, "web": web}
    # Project A's work items link to org/api; project B is given org/web in the settings.
    seed.link(seed.item("A-100", "2024-02-01"), "org/api", 1)
    seed.setting("metrics.project_repositories", {"B": ["ORG/WEB"]})
    # org/api production deployments (start → finish).
    ids["D0"] = seed.deploy(api, "2024-02-01 10:00", "2024-02-01 10:30")  # the first one
    ids["D1"] = seed.deploy(api, "2024-03-05 10:00", "2024-03-05 10:30")
    ids["D2"] = seed.deploy(api, "2024-03-07 10:00", "2024-03-07 11:00")
    seed.deploy(api, "2024-03-08 10:00", status="FAILURE")
    seed.deploy(api, "2024-03-08 12:00", environment="staging")
    ids["D5"] = seed.deploy(api, "2024-03-12 09:00", "2024-03-12 09:30")
    ids["D6"] = seed.deploy(api, "2024-03-13 09:00", "2024-03-13 09:30")  # ships no PR
    ids["W1"] = seed.deploy(web, "2024-03-10 00:00", "2024-03-10 00:10", environment="Prod")
    seed.deploy(old, "2024-03-10 00:00")  # inactive repository: never counted
    # PRs of org/api.
    ids["P0"] = seed.pr(api, 1, "2023-12-20", "2024-01-01")  # 31 days before D0: unclaimed
    ids["P0b"] = seed.pr(api, 2, "2024-01-20", "2024-01-25 10:00")  # 7 days before D0
    ids["P1"] = seed.pr(
        api,
        3,
        "2024-03-04 10:00",
        "2024-03-05 09:00",
        commits=["2024-03-01 10:00", "2024-03-02 10:00"],
        reviews=[("2024-03-04 12:00", "bob")],
    )  # → D1; lead 03-01 10:00 → 03-05 10:30 = 96.5 h
    ids["P2"] = seed.pr(
        api,
        4,
        "2024-03-06 09:00",
        "2024-03-07 10:00",  # merged exactly when D2 started: shipped by D2
        commits=["2024-03-06 08:00"],
        comments=[("2024-03-06 09:30", "alice"), ("2024-03-06 10:00", "carol")],
    )  # lead 03-06 08:00 → 03-07 11:00 = 27 h; pickup 1 h (alice is the author)
    ids["P3"] = seed.pr(api, 5, "2024-03-07 12:00", "2024-03-09 12:00")  # no commits → D5
    ids["P4"] = seed.pr(api, 6, "2024-03-13 12:00", "2024-03-14 12:00")  # never deployed
    seed.pr(api, 7, "2024-03-05", "2024-03-06", active=False)
    # Incidents.
    seed.map_issue_type("incident", "incident")
    seed.item("A-1", "2024-03-05 12:00", type="Incident", resolved="2024-03-05 14:00")  # D1, 2 h
    seed.item("A-2", "2024-03-07 11:00", type="Incident", resolved="2024-03-08 11:00")  # D2, 24 h
    seed.item("A-3", "2024-03-07 12:00", type="INCIDENT", resolved="2024-03-07 13:00")  # D2, 1 h
    seed.item("B-1", "2024-03-11", type="Incident", resolved="2024-03-20")  # W1; resolved later
    seed.item("C-1", "2024-03-16", type="Incident", resolved="2024-03-17")  # no repos → D6, 24 h
    seed.item("A-6", "2024-03-01", type="Incident", resolved="2024-03-04")  # D0 too old; 72 h
    seed.item("A-7", "2024-03-06", type="Incident", resolved="2024-03-06 01:00", active=False)
    seed.item("A-8", "2024-03-06", type="Bug", resolved="2024-03-06 01:00")  # not an incident
    return ids


def test_the_four_metrics_for_the_whole_client(conn: Connection, org: dict[str, int]) -> None:
    r = dora_report(conn, PERIOD)
    assert (r.deployments, r.deployment_days, r.failed_deployments) == (5, 5, 4)
    assert r.deployment_frequency.value == 2.5  # 5 deployment days / 2 weeks
    assert r.lead_time_for_changes.value == 96.5  # P1 96.5, P2 27, P3 117.5
    assert r.lead_time_for_changes.sample == 3
    assert r.change_failure_rate.value == 0.8  # D1, D2, W1, D6 of 5
    assert r.time_to_restore.value == 24  # 1, 2, 24, 24, 72 (A-6 resolved exactly at since)
    assert [m.level.level if m.level else None for m in r.metrics] == [
        "high",
        "high",
        "low",
        "medium",  # 24 h is not "less than one day"
    ]


def test_levels_follow_the_benchmark_year_in_settings(
    conn: Connection, seed: Seeder, org: dict[str, int]
) -> None:
    seed.setting("metrics.benchmark_year", 2021)
    r = dora_report(conn, PERIOD)
    assert r.benchmark_year == 2021
    assert [m.level.label if m.level else None for m in r.metrics] == [
        "Between once per day and once per month",
        "Less than one week",
        "Above 30%",
        "Between one day and one week",
    ]


def test_per_project_and_per_repository(conn: Connection, org: dict[str, int]) -> None:
    a = dora_report(conn, PERIOD.with_(project="A"))
    assert (a.deployments, a.failed_deployments) == (4, 3)  # D6 failed through C-1
    assert a.time_to_restore.value == 13  # A's incidents: 1, 2, 24, 72
    web = dora_report(conn, PERIOD.with_(repository="org/WEB"))
    assert (web.deployments, web.change_failure_rate.value) == (1, 1.0)
    assert web.lead_time_for_changes.value is None and web.lead_time_for_changes.level is None
    assert web.time_to_restore.value is None  # B-1 is resolved after the period
    b = dora_report(conn, PERIOD.with_(project="B"))
    assert b.deployments == 1


def test_weekly_series(conn: Connection, org: dict[str, int]) -> None:
    weeks = dora_report(conn, PERIOD).weeks
    assert [
        (w.week, w.deployments, w.lead_time_median_hours, w.change_failure_rate) for w in weeks
    ] == [
        (date(2024, 3, 4), 3, 61.75, 1.0),  # D1, D2 and W1 (Sunday 03-10)
        (date(2024, 3, 11), 2, 117.5, 0.5),  # D5, D6
    ]
    assert [w.time_to_restore_median_hours for w in weeks] == [13, 24]


def test_incidents_are_attributed_deterministically_within_the_window(
    conn: Connection, org: dict[str, int]
) -> None:
    got = {a.key: a.deployment_id for a in incident_attributions(conn, PERIOD)}
    assert got == {
        "A-1": org["D1"],
        "A-2": org["D2"],  # created exactly when D2 finished
        "A-3": org["D2"],
        "B-1": org["W1"],
        "C-1": org["D6"],  # project without repositories: all the client's
    }
    everything = MetricFilter(CLIENT, datetime(2024, 1, 1), datetime(2024, 4, 1))
    late = {a.key: a.deployment_id for a in incident_attributions(conn, everything)}
    assert late["A-6"] is None  # 29 days after D0: outside the 168-hour window


def test_pr_breakdown_and_the_deployment_that_shipped_each(
    conn: Connection, org: dict[str, int]
) -> None:
    s = MetricsSettings.load(conn, CLIENT)
    prs = {p.id: p for p in pr_cycles(conn, PERIOD, s)}
    assert set(prs) == {org["P1"], org["P2"], org["P3"], org["P4"]}
    p1, p2, p3, p4 = (prs[org[k]] for k in ("P1", "P2", "P3", "P4"))
    assert (p1.deployment_id, p2.deployment_id, p3.deployment_id, p4.deployment_id) == (
        org["D1"],
        org["D2"],
        org["D5"],
        None,
    )
    assert (p1.coding_hours, p1.pickup_hours, p1.review_hours, p1.deploy_hours) == (
        72,
        2,
        21,
        1.5,
    )
    assert p1.cycle_hours == 96.5  # 72 coding + 23 open → merge + 1.5 deploy
    assert (p2.pickup_hours, p2.review_hours) == (1, 24)
    assert (p3.coding_hours, p3.pickup_hours, p3.cycle_hours) == (None, None, 48 + 69.5)
    assert (p4.deploy_hours, p4.cycle_hours) == (None, 24)
    summary = pr_cycle_summary(conn, PERIOD, s)
    assert (summary.merged, summary.deployed) == (4, 3)


@pytest.mark.parametrize(
    ("window_days", "claimed"), [(14, {"P0b"}), (0, set()), (60, {"P0", "P0b"})]
)
def test_the_first_deployment_claims_only_prs_merged_within_the_window(
    conn: Connection, org: dict[str, int], window_days: float, claimed: set[str]
) -> None:
    s = MetricsSettings(first_deployment_window_days=window_days)
    early = MetricFilter(CLIENT, datetime(2023, 12, 1), datetime(2024, 2, 1))
    shipped = {p.id for p in pr_cycles(conn, early, s) if p.deployment_id == org["D0"]}
    assert shipped == {org[k] for k in claimed}


def test_no_deployments_gives_empty_metrics(conn: Connection) -> None:
    r = dora_report(conn, PERIOD)
    assert r.deployments == 0 and r.deployment_frequency.level is None
    assert [m.value for m in r.metrics] == [0.0, None, None, None]


def _temp_tables(conn: Connection) -> list[str]:
    return list(
        conn.execute(
            text("SELECT relname FROM pg_class WHERE relpersistence = 't' ORDER BY relname")
        ).scalars()
    )


def test_delivery_overview_gives_what_each_function_gives_alone(
    conn: Connection, org: dict[str, int]
) -> None:
    s = MetricsSettings.load(conn, CLIENT)
    settings_before = conn.execute(
        text("SELECT current_setting('jit'), current_setting('work_mem')")
    ).one()
    for f in (PERIOD, PERIOD.with_(project="A"), PERIOD.with_(repository="org/web")):
        overview = delivery_overview(conn, f, s)
        assert overview.dora == dora_report(conn, f, s)
        assert overview.pr_cycle == pr_cycle_summary(conn, f, s)
    # The snapshot's temp tables are gone and the planner settings are as they were.
    assert _temp_tables(conn) == []
    assert (
        conn.execute(text("SELECT current_setting('jit'), current_setting('work_mem')")).one()
        == settings_before
    )


def test_an_open_snapshot_is_reused_only_for_the_same_filter(
    conn: Connection, org: dict[str, int]
) -> None:
    s = MetricsSettings.load(conn, CLIENT)
    b = PERIOD.with_(project="B")
    alone = (
        pr_cycle_summary(conn, PERIOD, s),
        pr_cycle_summary(conn, b, s),
        dora_report(conn, b, s),
    )
    with delivery_snapshot(conn, PERIOD, s):
        assert _temp_tables(conn) != []
        # Same filter: read from the snapshot; another filter: computed inline, not from it.
        inside = (
            pr_cycle_summary(conn, PERIOD, s),
            pr_cycle_summary(conn, b, s),
            dora_report(conn, b, s),
        )
    assert inside == alone
    assert inside[2].deployments == 1  # B's one deployment, not the client's five
    assert _temp_tables(conn) == []
