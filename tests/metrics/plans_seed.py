"""Aha! releases and goals over Jira issues, their PRs and deployments: the seed every
release/goal metric test shares (flow, DORA, PR cycle, the CLI and the Metrics screen).

`seed_account` is the hand-computed account (all times UTC, period `period()`:
Monday 2024-03-04 → Monday 2024-03-18, two ISO weeks):

Aha! (integration 3): release APAY-R-1 holds features F-1 and F-2; goal APAY-G-1 is served
by F-1 and F-3. F-1, F-2, F-3 are integrated with Jira issues A-1, A-2, A-3; A-9 is linked
to nothing. Idea I-1 (created 2024-02-20 00:00) was promoted to F-1.

Jira (board To Do → In Progress → Review → Done):
- A-1: created 03-04, In Progress 03-05, Done 03-07 → lead 72 h, cycle 48 h; PR 1.
- A-2: created 03-04, In Progress 03-06, Done 03-08 12:00 → lead 108 h, cycle 60 h; PR 2.
- A-3: created 03-10, In Progress 03-11, Done 03-12 → lead 48 h, cycle 24 h; PR 3.
- A-9: created 03-04, Done 03-05 → lead 24 h (in no release or goal); PR 9.
- INC-1, INC-2: incidents (no status change, so no flow figure), resolved.

GitHub, org/api (PR: first commit → merged; deployment: start = finish, production):
- PR 9: 03-03 00:00 → 03-04 12:00;  PR 1: 03-05 00:00 → 03-05 12:00;
  PR 2: 03-06 00:00 → 03-08 12:00;  PR 3: 03-11 00:00 → 03-12 00:00.
- D0 03-01 00:00 (the first; ships nothing), D1 03-06 00:00 (ships PR 9 and PR 1),
  D2 03-09 00:00 (PR 2), D3 03-13 00:00 (PR 3).
- INC-1 created 03-09 06:00, resolved 12:00 (→ D2, 6 h); INC-2 created 03-13 02:00,
  resolved 06:00 (→ D3, 4 h).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, text

from pulse_console.metrics.filters import MetricFilter
from storage.load import upsert
from storage.models import Goal, Release, WorkItem, WorkItemGoal, WorkItemLink, WorkItemRelease
from tests.metrics.seed import CLIENT, Seeder, ts

AHA = 3
RELEASE, GOAL = "APAY-R-1", "APAY-G-1"


def add_aha(conn: Connection) -> None:
    """The Aha! integration (id `AHA`) of client `CLIENT`."""
    conn.execute(
        text(
            "INSERT INTO integrations (id, client_id, name, type, base_url)"
            " VALUES (:i, :c, 'aha', 'aha', 'https://acme.aha.io')"
        ),
        {"i": AHA, "c": CLIENT},
    )


def aha_item(conn: Connection, key: str, type: str, created: str, **custom: str) -> int:
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


def release(conn: Connection, key: str, name: str, items: Iterable[int]) -> int:
    """Release `key` holding the Aha! items `items` (ids)."""
    row = {"external_id": f"r-{key}", "key": key, "name": name, "released": True}
    release_id = _plan_id(conn, Release, row)
    upsert(conn, WorkItemRelease, [
        {"client_id": CLIENT, "work_item_id": item, "release_id": release_id} for item in items
    ])  # fmt: skip
    return release_id


def goal(conn: Connection, key: str, name: str, items: Iterable[int], kind: str = "goal") -> int:
    """Goal (or initiative) `key` served by the Aha! items `items` (ids)."""
    row = {"external_id": f"g-{key}", "key": key, "name": name, "kind": kind}
    goal_id = _plan_id(conn, Goal, row)
    upsert(conn, WorkItemGoal, [
        {"client_id": CLIENT, "work_item_id": item, "goal_id": goal_id} for item in items
    ])  # fmt: skip
    return goal_id


def jira_link(conn: Connection, item: int, key: str) -> None:
    """Aha! item `item` integrated with Jira issue `key`."""
    row = {"client_id": CLIENT, "work_item_id": item, "kind": "jira", "url": key,
           "evidence": "integration_field"}  # fmt: skip
    upsert(conn, WorkItemLink, [row])


def seed_account(conn: Connection, seed: Seeder) -> None:
    """The hand-computed account of the module docstring."""
    seed.board()
    seed.map_issue_type("Incident", "incident")
    progress = {
        "A-1": ("2024-03-04", [("2024-03-05", "In Progress"), ("2024-03-07", "Done")]),
        "A-2": ("2024-03-04", [("2024-03-06", "In Progress"), ("2024-03-08 12:00", "Done")]),
        "A-3": ("2024-03-10", [("2024-03-11", "In Progress"), ("2024-03-12", "Done")]),
        "A-9": ("2024-03-04", [("2024-03-05", "Done")]),
    }
    issues = {
        key: seed.item(key, created, moves, resolved=moves[-1][0])
        for key, (created, moves) in progress.items()
    }
    seed.item("INC-1", "2024-03-09 06:00", type="Incident", resolved="2024-03-09 12:00")
    seed.item("INC-2", "2024-03-13 02:00", type="Incident", resolved="2024-03-13 06:00")
    repo = seed.repo("org/api")
    for number, first_commit, merged in (
        (9, "2024-03-03", "2024-03-04 12:00"),
        (1, "2024-03-05", "2024-03-05 12:00"),
        (2, "2024-03-06", "2024-03-08 12:00"),
        (3, "2024-03-11", "2024-03-12"),
    ):
        seed.pr(repo, number, first_commit, merged, commits=[first_commit])
        seed.link(issues[f"A-{number}"], "org/api", number)
    for started in ("2024-03-01", "2024-03-06", "2024-03-09", "2024-03-13"):
        seed.deploy(repo, started)
    add_aha(conn)
    features = {k: aha_item(conn, k, "Feature", "2024-02-25") for k in ("F-1", "F-2", "F-3")}
    aha_item(conn, "I-1", "Idea", "2024-02-20", feature="F-1", feature_id="id-F-1")
    for feature, issue in (("F-1", "A-1"), ("F-2", "A-2"), ("F-3", "A-3")):
        jira_link(conn, features[feature], issue)
    release(conn, RELEASE, "Payments 1.0", [features["F-1"], features["F-2"]])
    goal(conn, GOAL, "Faster checkout", [features["F-1"], features["F-3"]])


def period(**kw: object) -> MetricFilter:
    since, until = ts("2024-03-04"), ts("2024-03-18")
    assert since is not None and until is not None
    return MetricFilter(CLIENT, since, until).with_(**kw)
