"""Flow metrics scoped to an Aha! release or goal, and a release's idea-to-done lead time,
on the hand-computed account of `tests.metrics.plans_seed` (its docstring has the figures).
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from pulse_console.metrics.flow_metrics import flow_summary
from pulse_console.metrics.plans import release_lead_time
from tests.metrics.plans_seed import GOAL, RELEASE, period, seed_account
from tests.metrics.seed import CLIENT, Seeder, ts


def test_flow_metrics_filtered_by_a_release_cover_its_linked_jira_issues(
    conn: Connection, seed: Seeder
) -> None:
    seed_account(conn, seed)

    everything = flow_summary(conn, period())
    release = flow_summary(conn, period(release=RELEASE))

    assert everything.completed == 4
    # lead 72 h and 108 h → median 90 h; cycle 48 h and 60 h → median 54 h.
    assert release.completed == 2
    assert release.lead_time_median_hours == 90
    assert release.cycle_time_median_hours == 54


def test_flow_metrics_filtered_by_a_goal_cover_the_issues_of_the_features_serving_it(
    conn: Connection, seed: Seeder
) -> None:
    seed_account(conn, seed)

    goal = flow_summary(conn, period(goal=GOAL))

    # lead 72 h and 48 h → median 60 h; cycle 48 h and 24 h → median 36 h.
    assert goal.completed == 2
    assert goal.lead_time_median_hours == 60
    assert goal.cycle_time_median_hours == 36
    assert flow_summary(conn, period(goal="APAY-G-404")).completed == 0


def test_release_lead_time_runs_from_the_idea_to_the_last_linked_issue_done(
    conn: Connection, seed: Seeder
) -> None:
    seed_account(conn, seed)

    lead = release_lead_time(conn, CLIENT, RELEASE)

    # I-1 created 02-20 00:00; A-1 done 03-07, A-2 done 03-08 12:00 (the last):
    # 9 days of February (2024 is a leap year: 20 → 29 → 03-01) + 7.5 days = 17.5 days = 420 h.
    assert lead.idea_created_at == ts("2024-02-20")
    assert lead.all_done_at == ts("2024-03-08 12:00")
    assert lead.hours == 420
    assert (lead.linked_items, lead.open_items) == (2, 0)


def test_release_lead_time_is_open_while_a_linked_issue_is_not_done(
    conn: Connection, seed: Seeder
) -> None:
    seed_account(conn, seed)
    conn.execute(text("UPDATE work_items SET resolved_at = NULL WHERE key = 'A-2'"))

    lead = release_lead_time(conn, CLIENT, RELEASE)

    assert lead.all_done_at is None and lead.hours is None
    assert (lead.linked_items, lead.open_items) == (2, 1)
