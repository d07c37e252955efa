"""Flow metrics on hand-computed cases: reopenings, skipped steps, case-different status
names, inactive records, time zones and period boundaries.

Board: To Do (todo) → In Progress (in progress, active work) → Review (in progress,
waiting) → Done (done). Period: Monday 2024-03-04 00:00 UTC to Monday 2024-03-18 (two ISO
weeks). Every expected number below is worked out by hand in the comment beside it.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import Connection, text

from pulse_console.metrics.filters import MetricFilter
from pulse_console.metrics.flow_metrics import (
    completed_items,
    flow_overview,
    flow_summary,
    throughput_per_week,
    time_in_steps,
    wip_per_day,
)
from pulse_console.metrics.step_items import step_items
from tests.metrics.seed import CLIENT, Seeder, ts

SINCE, UNTIL = "2024-03-04", "2024-03-18"


def period(**kw: object) -> MetricFilter:
    since, until = ts(SINCE), ts(UNTIL)
    assert since is not None and until is not None
    return MetricFilter(CLIENT, since, until).with_(**kw)


@pytest.fixture
def board(conn: Connection, seed: Seeder) -> Connection:
    steps = seed.board()
    seed.map_status("Closed", steps["Done"])
    # straight through. lead 03-04 → 03-07 = 72 h; cycle 03-05 → 03-07 = 48 h.
    seed.item(
        "A-1",
        "2024-03-04",
        [("2024-03-05", "In Progress"), ("2024-03-06", "In Review"), ("2024-03-07", "Done")],
    )
    # done without starting, reopened, done again as "done" (lower case).
    # lead = first Done 03-05 - 03-04 = 24 h; cycle = 03-06 → 03-08 12:00 = 60 h.
    seed.item(
        "A-2",
        "2024-03-04",
        [("2024-03-05", "Done"), ("2024-03-06", "In Progress"), ("2024-03-08 12:00", "done")],
    )
    # skips In Progress; "CLOSED" maps through "Closed". lead 24 h, no cycle time.
    seed.item("A-3", "2024-03-10", [("2024-03-11", "CLOSED")])
    # inactive — excluded everywhere.
    seed.item(
        "A-4",
        "2024-03-04",
        [("2024-03-04 01:00", "In Progress"), ("2024-03-05", "Done")],
        active=False,
    )
    # started before the period and still in progress: WIP all along.
    seed.item("A-5", "2024-03-01", [("2024-03-03 12:00", "In Progress")])
    # A-6 (a Bug): through an unmapped "Blocked"; first Done 03-09 (a Saturday). lead 120 h.
    seed.item("A-6", "2024-03-04", [("2024-03-05", "Blocked"), ("2024-03-09", "Done")], type="Bug")
    # B-1: times given in other zones (= 03-11 00:00 and 06:00 UTC); Done exactly at
    # `until`, so it is not completed in this period.
    seed.item(
        "B-1",
        "2024-03-11T09:00:00+09:00",
        [("2024-03-11T01:00:00-05:00", "In Progress"), ("2024-03-18T00:00:00Z", "Done")],
        team="Core",
    )
    # B-2: Done exactly at `since`: completed in this period. lead 72 h, cycle 48 h.
    seed.item(
        "B-2",
        "2024-03-01",
        [("2024-03-02", "In Progress"), ("2024-03-04", "Done")],
        team="Core",
    )
    return conn


def test_summary_over_the_whole_period(board: Connection) -> None:
    s = flow_summary(board, period())
    assert s.completed == 5  # B-2
    assert s.lead_time_median_hours == 72  # 24, 24, 72, 72, 120
    assert s.cycle_time_items == 3  # A-1 48, A-2 60, B-2 48
    assert s.cycle_time_median_hours == 48
    assert s.throughput_per_week == 2.5
    assert s.wip_at_end == 2  # A-5, and B-1 (leaves exactly at `until`)
    # In Progress 24 + 60 + 336 + 162 = 582 h; Review 24 h.
    assert s.flow_efficiency == pytest.approx(582 / 606)


def test_median_of_an_even_count_is_the_mean_of_the_middle_two(board: Connection) -> None:
    s = flow_summary(board, period(project="A"))
    assert s.completed == 4  # 24, 24, 72, 120
    assert s.lead_time_median_hours == 48  # DevLake's lower median would say 24


def test_filters_by_team_and_case_insensitive_issue_type(board: Connection) -> None:
    assert flow_summary(board, period(team="Core")).lead_time_median_hours == 72
    bugs = flow_summary(board, period(issue_type="bug"))
    assert (bugs.completed, bugs.lead_time_median_hours, bugs.cycle_time_median_hours) == (
        1,
        120,
        None,
    )


def test_drill_down_lists_the_items_behind_the_numbers(board: Connection) -> None:
    items = completed_items(board, period(), order="lead")
    assert [(i.key, i.lead_hours, i.cycle_hours) for i in items] == [
        ("A-6", 120, None),
        ("A-1", 72, 48),
        ("B-2", 72, 48),
        ("A-2", 24, 60),
        ("A-3", 24, None),
    ]


def test_time_in_each_step_within_the_period(board: Connection) -> None:
    steps = {s.step: (s.hours, s.items) for s in time_in_steps(board, period())}
    assert steps == {
        "To Do": (102, 5),  # A-1 24, A-2 24, A-3 24, A-6 24, B-1 6
        "In Progress": (582, 4),  # A-1 24, A-2 60, A-5 336, B-1 162
        "Review": (24, 1),
        "Done": (1236, 5),  # A-1 264, A-2 24 + 228, A-3 168, A-6 216, B-2 336
    }


def test_wip_at_the_end_of_each_day(board: Connection) -> None:
    days = wip_per_day(board, period())
    assert days[0].day == date(2024, 3, 4) and len(days) == 14
    assert [d.count for d in days] == [1, 2, 3, 2, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2]


def test_throughput_per_iso_week(board: Connection) -> None:
    weeks = throughput_per_week(board, period())
    assert [(w.day, w.count) for w in weeks] == [(date(2024, 3, 4), 4), (date(2024, 3, 11), 1)]


def test_inactive_steps_and_mappings_drop_out_of_every_metric(board: Connection) -> None:
    board.execute(text("UPDATE flow_steps SET active = false WHERE name = 'Review'"))
    board.execute(text("UPDATE status_mappings SET active = false WHERE status_name = 'Closed'"))
    steps = {s.step for s in time_in_steps(board, period())}
    assert steps == {"To Do", "In Progress", "Done"}
    s = flow_summary(board, period())
    assert s.completed == 4  # A-3 is no longer Done: "CLOSED" is unmapped now
    assert s.flow_efficiency == 1.0  # no waiting step left


def test_a_type_specific_mapping_wins_over_the_typeless_one(conn: Connection, seed: Seeder) -> None:
    todo = seed.step("To Do", "todo")
    ip = seed.step("In Progress", "in_progress")
    done = seed.step("Done", "done")
    seed.map_status("Triage", todo)
    seed.map_status("TRIAGE", ip, issue_type="bug")
    seed.map_status("Done", done)
    seed.item("A-1", "2024-03-04", [("2024-03-06", "Done")], first="Triage", type="Bug")
    seed.item("A-2", "2024-03-04", [("2024-03-06", "Done")], first="triage", type="Story")
    items = {i.key: i.cycle_hours for i in completed_items(conn, period())}
    assert items == {"A-1": 48, "A-2": None}


def test_no_items_gives_empty_metrics_not_errors(conn: Connection) -> None:
    s = flow_summary(conn, period())
    assert (s.completed, s.lead_time_median_hours, s.flow_efficiency) == (0, None, None)
    assert [w.count for w in throughput_per_week(conn, period())] == [0, 0]


def test_a_period_must_not_be_empty() -> None:
    with pytest.raises(ValueError):
        MetricFilter(CLIENT, datetime(2024, 3, 4), datetime(2024, 3, 4))


def test_the_screen_overview_equals_the_separate_queries(board: Connection) -> None:
    f = period()
    overview = flow_overview(board, f, slowest=3)
    assert overview.summary == flow_summary(board, f)
    assert overview.steps == time_in_steps(board, f)
    assert overview.wip == wip_per_day(board, f)
    assert overview.throughput == throughput_per_week(board, f)
    assert overview.slowest == completed_items(board, f, limit=3)
    assert flow_overview(board, f.with_(project="A")).summary.completed == 4  # temp tables gone


def test_a_steps_drill_down_adds_up_to_its_time_in_step(board: Connection) -> None:
    f = period()
    steps = {s.step: s for s in time_in_steps(board, f)}
    in_progress = step_items(board, f, steps["In Progress"].step_id)
    assert [(i.key, i.hours, i.visits, i.in_step_at_end) for i in in_progress] == [
        ("A-5", 336, 1, True),  # the whole period
        ("B-1", 162, 1, True),  # 03-11 06:00 → 03-18, leaves exactly at `until`
        ("A-2", 60, 1, False),
        ("A-1", 24, 1, False),
    ]
    for step in steps.values():
        items = step_items(board, f, step.step_id)
        assert len(items) == step.items
        assert sum(i.hours for i in items) == pytest.approx(step.hours)
    done = {i.key: i.visits for i in step_items(board, f, steps["Done"].step_id)}
    assert done["A-2"] == 2  # done, reopened, done again
