"""Flow metrics on hand-computed cases: reopenings, skipped steps, case-different status
names, inactive records, time zones and period boundaries.

Board: To Do (todo, waiting) → In Progress (in progress, active work) → Review (in progress,
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
    on_timeline,
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
    # Active: In Progress 24 + 60 + 336 + 162 = 582 h. Waiting: Review 24 h and To Do
    # 102 h (test_time_in_each_step_within_the_period). Done time is not flow time.
    assert s.flow_efficiency == pytest.approx(582 / (582 + 24 + 102))


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


def test_time_in_step_is_the_median_and_p85_per_item_beside_the_total(
    board: Connection,
) -> None:
    steps = {s.step: s for s in time_in_steps(board, period())}
    in_progress = steps["In Progress"]  # per item 24, 60, 162, 336; in total 582
    assert in_progress.hours == 582
    assert in_progress.median_hours == pytest.approx(111)  # (60 + 162) / 2
    assert in_progress.p85_hours == pytest.approx(162 + 0.55 * (336 - 162))  # rank 2.55
    done = steps["Done"]  # per item 168, 216, 252 (A-2's two visits), 264, 336
    assert (done.median_hours, done.p85_hours) == (252, pytest.approx(264 + 0.4 * 72))


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
    assert s.flow_efficiency == pytest.approx(582 / (582 + 102))  # To Do still waits


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


def timeline_keys(conn: Connection, f: MetricFilter) -> list[str]:
    rows = on_timeline(conn, f, "keys AS (SELECT key FROM items) SELECT key FROM keys ORDER BY 1")
    return [r[0] for r in rows]


def test_a_done_item_is_in_the_timeline_only_if_its_status_changed_in_the_period(
    conn: Connection, seed: Seeder
) -> None:
    """An item created before the period and Done now is read only when its status changed
    since `since` — the same answer for the whole client (every change since `since`,
    hashed) and for a project (each item's own changes looked up)."""
    steps = seed.board()
    seed.map_status("Closed", steps["Done"])
    seed.item("C-1", "2024-02-01", [("2024-02-02", "Done")])  # Done, unchanged since: out
    seed.item(
        "C-2",
        "2024-02-01",
        [("2024-02-02", "Done"), ("2024-03-05", "In Progress"), ("2024-03-06", "Done")],
    )  # reopened in the period
    seed.item("C-3", "2024-02-01", [("2024-03-04", "Done")])  # Done exactly at `since`
    seed.item("C-4", "2024-02-01", [("2024-02-02", "Done"), ("2024-03-18", "Closed")])  # at until
    seed.item("C-5", "2024-03-05", [("2024-03-06", "Done")])  # created in the period
    seed.item("C-6", "2024-02-01", [("2024-02-02", "In Progress")])  # not Done
    seed.item("D-1", "2024-02-01", [("2024-03-05", "Done")])  # another project
    expected = ["C-2", "C-3", "C-4", "C-5", "C-6"]
    assert timeline_keys(conn, period(project="C")) == expected
    assert timeline_keys(conn, period()) == [*expected, "D-1"]
    assert timeline_keys(conn, period(issue_type="story")) == [*expected, "D-1"]
