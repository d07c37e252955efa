"""A small, deterministic delivery history for the Metrics screen's tests.

Two projects (ALP on acme/api, BET on acme/web), a work item started every five days from
late July 2025 until just before `NOW` (2026-01-15), each with a pull request, deployments
every three days per repository and four incidents. Everything is arithmetic on the index,
so every run seeds the same rows.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine

from tests.metrics.plans_seed import add_aha, aha_item, goal, jira_link, release
from tests.metrics.seed import Seeder
from tests.tui.fakes import NOW

START = datetime(2025, 7, 25, 9, 0, tzinfo=NOW.tzinfo)
ITEMS = 34
REPOS = {"ALP": "acme/api", "BET": "acme/web"}


def _at(moment: datetime) -> str:
    return moment.isoformat()


def seed_delivery(engine: Engine) -> None:
    with engine.begin() as conn:
        seed = Seeder(conn)
        seed.board()
        seed.map_issue_type("Incident", "incident")
        repos = {project: seed.repo(name) for project, name in REPOS.items()}
        for n in range(ITEMS):
            project = "BET" if n % 3 == 0 else "ALP"
            created = START + timedelta(days=5 * n)
            started = created + timedelta(days=1 + n % 3)
            reviewed = started + timedelta(days=2 + n % 2, hours=3)
            finished = reviewed + timedelta(days=1 + n % 4)
            moves = [(started, "In Progress"), (reviewed, "In Review"), (finished, "Done")]
            if n % 5 == 4:  # some skip review
                moves = [(started, "In Progress"), (finished, "Done")]
            changes = [(_at(t), to) for t, to in moves if t < NOW]
            key = f"{project}-{n + 1}"
            kind = "Bug" if n % 4 == 1 else "Story"
            item = seed.item(key, _at(created), changes, type=kind, project=project)
            seed.link(item, REPOS[project], n + 1)
            if started + timedelta(hours=4) < NOW:
                opened = started + timedelta(hours=4)
                merged = reviewed + timedelta(hours=6 + n % 5) if reviewed < NOW else None
                seed.pr(
                    repos[project],
                    n + 1,
                    _at(opened),
                    None if merged is None or merged >= NOW else _at(merged),
                    commits=[_at(started + timedelta(hours=1))],
                    reviews=[(_at(opened + timedelta(hours=5 + 3 * (n % 4))), "bob")],
                )
        for day in range(0, 176, 3):
            for offset, repo in enumerate(repos.values()):
                at = START + timedelta(days=day, hours=15 + offset)
                if at < NOW:
                    seed.deploy(repo, _at(at), _at(at + timedelta(minutes=20)))
        for n, day in enumerate((40, 95, 130, 160)):
            opened = START + timedelta(days=day, hours=18)
            seed.item(
                f"ALP-{100 + n}",
                _at(opened),
                [(_at(opened + timedelta(hours=1)), "In Progress")],
                type="Incident",
                project="ALP",
                resolved=_at(opened + timedelta(hours=3 + 4 * n)),
            )


# The release and goals `seed_plans` adds (reference number → the Jira issues behind it).
PLAN_RELEASE, PLAN_GOAL, PLAN_INITIATIVE = "ALP-R-1", "APP-G-1", "APP-I-1"
PLAN_ISSUES = {
    PLAN_RELEASE: ("ALP-20", "ALP-23", "ALP-26"),
    PLAN_GOAL: ("BET-19", "BET-22", "ALP-20"),
    PLAN_INITIATIVE: ("BET-25",),
}


def seed_plans(engine: Engine) -> None:
    """Over `seed_delivery`: an Aha! release, a goal and an initiative, each served by one
    Aha! feature per Jira issue of `PLAN_ISSUES` (tests/metrics/plans_seed.py's helpers)."""
    with engine.begin() as conn:
        add_aha(conn)
        features: dict[str, int] = {}
        for issue in sorted({i for issues in PLAN_ISSUES.values() for i in issues}):
            features[issue] = aha_item(conn, f"APP-{issue}", "Feature", START.isoformat())
            jira_link(conn, features[issue], issue)
        items = {plan: [features[i] for i in issues] for plan, issues in PLAN_ISSUES.items()}
        release(conn, PLAN_RELEASE, "Checkout 2.0", items[PLAN_RELEASE])
        goal(conn, PLAN_GOAL, "Faster checkout", items[PLAN_GOAL])
        goal(conn, PLAN_INITIATIVE, "Mobile first", items[PLAN_INITIATIVE], kind="initiative")
