"""Flow metrics scoped to an Aha! release or goal, and a release's idea-to-done lead time,
on hand-computed cases.

Aha! (integration 3): release APAY-R-1 holds features F-1 and F-2; goal APAY-G-1 is served
by F-1 and F-3. F-1, F-2, F-3 are integrated with Jira issues A-1, A-2, A-3; A-9 is linked
to nothing. Idea I-1 (created 2024-02-20 00:00) was promoted to F-1.

Jira (board To Do → In Progress → Review → Done), period 2024-03-04 → 2024-03-18:
- A-1: created 03-04, In Progress 03-05, Done 03-07 → lead 72 h, cycle 48 h.
- A-2: created 03-04, In Progress 03-06, Done 03-08 12:00 → lead 108 h, cycle 60 h.
- A-3: created 03-10, In Progress 03-11, Done 03-12 → lead 48 h, cycle 24 h.
- A-9: created 03-04, Done 03-05 → lead 24 h (in no release or goal).
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from pulse_console.metrics.filters import MetricFilter
from pulse_console.metrics.flow_metrics import flow_summary
from pulse_console.metrics.plans import release_lead_time
from storage.load import upsert
from storage.models import Goal, Release, WorkItem, WorkItemGoal, WorkItemLink, WorkItemRelease
from tests.metrics.seed import CLIENT, Seeder, ts

AHA = 3
RELEASE, GOAL = "APAY-R-1", "APAY-G-1"


def _aha_item(conn: Connection, key: str, type: str, created: str, **custom: str) -> int:
    result = upsert(
        conn,
        WorkItem,
        [
            {
                "client_id": CLIENT,
                "integration_id": AHA,
                "source": "aha",
                "external_id": f"id-{key}",
                "key": key,
                "project_key": "APAY",
                "type": type,
                "status": "Under consideration",
                "created_at": ts(created),
                "custom_fields": custom,
                "active": True,
            }
        ],
        return_ids=True,
    )
    assert result.ids is not None
    return next(iter(result.ids.values()))


def _plan_id(conn: Connection, model: type[Release] | type[Goal], row: dict[str, object]) -> int:
    base = {"client_id": CLIENT, "integration_id": AHA, "source": "aha", "project_key": "APAY"}
    result = upsert(conn, model, [{**base, **row}], return_ids=True)
    assert result.ids is not None
    return next(iter(result.ids.values()))


def _jira_link(conn: Connection, item: int, key: str) -> None:
    row = {"client_id": CLIENT, "work_item_id": item, "kind": "jira", "url": key,
           "evidence": "integration_field"}  # fmt: skip
    upsert(conn, WorkItemLink, [row])


def seed_account(conn: Connection, seed: Seeder) -> None:
    seed.board()
    seed.item("A-1", "2024-03-04", [("2024-03-05", "In Progress"), ("2024-03-07", "Done")],
              resolved="2024-03-07")  # fmt: skip
    seed.item("A-2", "2024-03-04", [("2024-03-06", "In Progress"), ("2024-03-08 12:00", "Done")],
              resolved="2024-03-08 12:00")  # fmt: skip
    seed.item("A-3", "2024-03-10", [("2024-03-11", "In Progress"), ("2024-03-12", "Done")],
              resolved="2024-03-12")  # fmt: skip
    seed.item("A-9", "2024-03-04", [("2024-03-05", "Done")], resolved="2024-03-05")
    conn.execute(
        text(
            "INSERT INTO integrations (id, client_id, name, type, base_url)"
            " VALUES (:i, :c, 'aha', 'aha', 'https://acme.aha.io')"
        ),
        {"i": AHA, "c": CLIENT},
    )
    release = _plan_id(conn, Release, {"external_id": "r1", "key": RELEASE, "released": True})
    goal = _plan_id(conn, Goal, {"external_id": "g1", "key": GOAL, "kind": "goal"})
    features = {k: _aha_item(conn, k, "Feature", "2024-02-25") for k in ("F-1", "F-2", "F-3")}
    _aha_item(conn, "I-1", "Idea", "2024-02-20", feature="F-1", feature_id="id-F-1")
    for feature, issue in (("F-1", "A-1"), ("F-2", "A-2"), ("F-3", "A-3")):
        _jira_link(conn, features[feature], issue)
    upsert(conn, WorkItemRelease, [
        {"client_id": CLIENT, "work_item_id": features[f], "release_id": release}
        for f in ("F-1", "F-2")
    ])  # fmt: skip
    upsert(conn, WorkItemGoal, [
        {"client_id": CLIENT, "work_item_id": features[f], "goal_id": goal}
        for f in ("F-1", "F-3")
    ])  # fmt: skip


def period(**kw: object) -> MetricFilter:
    since, until = ts("2024-03-04"), ts("2024-03-18")
    assert since is not None and until is not None
    return MetricFilter(CLIENT, since, until).with_(**kw)


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
