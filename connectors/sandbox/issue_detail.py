"""Everything about one issue beyond its skeleton, generated on demand from (seed, index).

The changelog walks the issue type's workflow: mostly forward, sometimes skipping a step,
sometimes sent back (review rework), sometimes reopened after being finished, with the
timestamps spread over the issue's lifetime so that the last change is its ``updated``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from connectors.sandbox.catalog import (
    FIELD_RANK,
    FIELD_SPRINT,
    FIELD_STORY_POINTS,
    ISSUE_TYPES,
    PRIORITIES,
    TYPE_BUG,
    TYPE_EPIC,
    TYPE_INCIDENT,
    Status,
    StatusCategory,
    Workflow,
    workflow_for,
)
from connectors.sandbox.issue_model import History, HistoryItem, Issue
from connectors.sandbox.issue_skeleton import FLAG_CHURN, FLAG_DONE, FLAG_UNTOUCHED, IssueSkeletons
from connectors.sandbox.people import User
from connectors.sandbox.seeding import STREAM_ISSUE_DETAIL, mix64
from connectors.sandbox.structure import Structure
from connectors.sandbox.timefmt import DAY_MS

SPRINT_LENGTH_MS = 14 * DAY_MS
_HISTORY_IDS_PER_ISSUE = 256
_FIRST_HISTORY_ID = 100_000

_OBJECTS = [
    "invoice export",
    "login form",
    "search results",
    "checkout page",
    "webhook retries",
    "audit log",
    "password reset",
    "CSV import",
    "order history",
    "feature flags",
    "rate limiter",
    "session cache",
    "PDF receipts",
    "push notifications",
    "billing address",
    "SSO settings",
    "dashboard filters",
]
_STORY_VERBS = ("filter", "export", "bulk edit", "share", "schedule", "preview", "archive")
_BUG_SYMPTOMS = (
    "times out", "shows stale data", "returns 500", "renders twice", "drops the last row",
    "ignores the time zone", "leaks memory", "double-charges",
)  # fmt: skip
_TASKS = ("Upgrade", "Refactor", "Add metrics to", "Document", "Migrate", "Clean up")
_LABELS = ("backend", "frontend", "tech-debt", "customer", "security", "performance", "ux")


def history_id(index: int, n: int) -> int:
    return _FIRST_HISTORY_ID + index * _HISTORY_IDS_PER_ISSUE + n


def issue_key(structure: Structure, sk: IssueSkeletons, index: int) -> str:
    return f"{structure.projects[sk.project[index]].key}-{sk.number[index]}"


def summary_for(r: random.Random, issue_type: int, incident_repo: str | None) -> str:
    obj = r.choice(_OBJECTS)
    if issue_type == TYPE_BUG:
        return f"{obj.capitalize()} {r.choice(_BUG_SYMPTOMS)}"
    if issue_type == TYPE_EPIC:
        return f"{obj.capitalize()} overhaul"
    if issue_type == TYPE_INCIDENT:
        return f"Production incident: {incident_repo or obj} {r.choice(_BUG_SYMPTOMS)}"
    if ISSUE_TYPES[issue_type].name == "Task":
        return f"{r.choice(_TASKS)} {obj}"
    return f"As a user I can {r.choice(_STORY_VERBS)} the {obj}"


def _status_item(a: Status, b: Status) -> HistoryItem:
    return HistoryItem("status", "jira", "status", a.id, a.name, b.id, b.name)


class _Walk:
    """Accumulates changelog events; each event becomes one history entry."""

    def __init__(self, workflow: Workflow) -> None:
        self.workflow = workflow
        self.events: list[tuple[int, tuple[HistoryItem, ...]]] = []  # (author, items)
        self.status = workflow.path[0]

    def move(self, author: int, to: Status) -> None:
        items = [_status_item(self.status, to)]
        was_done = self.status.category is StatusCategory.DONE
        now_done = to.category is StatusCategory.DONE
        if now_done and not was_done:
            items.insert(
                0, HistoryItem("resolution", "jira", "resolution", None, None, "10000", "Done")
            )
        elif was_done and not now_done:
            items.insert(
                0, HistoryItem("resolution", "jira", "resolution", "10000", "Done", None, None)
            )
        self.events.append((author, tuple(items)))
        self.status = to


@dataclass(frozen=True, slots=True)
class DetailContext:
    """What issue generation needs from the org, beyond the index."""

    seed: int
    structure: Structure
    skeletons: IssueSkeletons
    users: tuple[User, ...]
    sprint_origin_ms: int


def sprint_id(project: int, number: int) -> int:
    return project * 1000 + number


def sprint_name(structure: Structure, project: int, number: int) -> str:
    return f"{structure.projects[project].key} Sprint {number}"


def generate_issue(ctx: DetailContext, index: int) -> Issue:
    seed, structure, sk, users = ctx.seed, ctx.structure, ctx.skeletons, ctx.users
    r = random.Random(mix64(seed, STREAM_ISSUE_DETAIL, index))
    p = sk.project[index]
    project = structure.projects[p]
    itype = sk.type[index]
    flags = sk.flags[index]
    created, updated = sk.created[index], sk.updated[index]
    members = project.members
    reporter = r.choice(members)
    assignee: int | None = r.choice(members)
    workflow = workflow_for(itype, project.team_managed)
    walk = _Walk(workflow)
    path = workflow.path
    if not flags & FLAG_UNTOUCHED:
        target = len(path) - 1 if flags & FLAG_DONE else r.randrange(1, workflow.done_from)
        _walk_to(walk, r, assignee, target)
        if flags & FLAG_DONE and r.random() < 0.08:
            walk.move(reporter, workflow.reopen_to)
            if workflow.reopen_to not in path:
                walk.move(-1 if assignee is None else assignee, path[1])
            _walk_to(walk, r, assignee, target)
    # Field edits interleaved with the status walk.
    extra: list[tuple[int, tuple[HistoryItem, ...]]] = []
    if not flags & FLAG_UNTOUCHED and r.random() < 0.8:
        who = r.choice(members)
        extra.append((reporter, (_user_item(users, None, who),)))
        if r.random() < 0.2:
            other = r.choice(members)
            extra.append((who, (_user_item(users, who, other),)))
            who = other
        assignee = who
    elif r.random() < 0.5:
        assignee = None
    points: float | None = None
    if itype not in (TYPE_EPIC, TYPE_INCIDENT) and r.random() < 0.85:
        points = float(r.choice((1, 2, 3, 5, 8, 13)))
        if r.random() < 0.25:
            first = float(r.choice((1, 2, 3, 5, 8)))
            extra.append(
                (reporter, (_number_item(FIELD_STORY_POINTS, "Story point estimate", None, first),))
            )
            extra.append(
                (
                    reporter,
                    (_number_item(FIELD_STORY_POINTS, "Story point estimate", first, points),),
                )
            )
    sprints: tuple[int, ...] = ()
    if itype not in (TYPE_EPIC, TYPE_INCIDENT) and not flags & FLAG_UNTOUCHED:
        first_sprint = (created - ctx.sprint_origin_ms) // SPRINT_LENGTH_MS + 1
        last_sprint = max(first_sprint, (updated - ctx.sprint_origin_ms) // SPRINT_LENGTH_MS + 1)
        sprints = tuple(range(int(first_sprint), int(min(last_sprint, first_sprint + 2)) + 1))
        for s in sprints:
            extra.append((reporter, (_sprint_item(structure, p, sprints[: sprints.index(s) + 1]),)))
    if flags & FLAG_CHURN:
        for _ in range(40 + r.randrange(50)):
            extra.append(
                (
                    r.choice(members),
                    (HistoryItem("Rank", "custom", FIELD_RANK, "", "", "", "Ranked higher"),),
                )
            )
    if r.random() < 0.06:
        extra.append((-1, (HistoryItem("labels", "jira", "labels", None, "", None, "triaged"),)))
    events = walk.events
    for ev in extra:
        events.insert(r.randrange(len(events) + 1), ev)
    histories = _timestamps(r, index, events, created, updated)
    status = walk.status
    resolved_ms = None
    category_changed = created
    prev_cat = path[0].category
    for h in histories:
        for item in h.items:
            if item.field == "status":
                cat = next(
                    s.category for s in (*workflow.path, workflow.reopen_to) if s.id == item.to
                )
                if cat is not prev_cat:
                    category_changed = h.created_ms
                    prev_cat = cat
                if cat is StatusCategory.DONE:
                    resolved_ms = h.created_ms
    done = status.category is StatusCategory.DONE
    cause = sk.incident_cause.get(index)
    return Issue(
        index=index,
        id=str(10001 + index),
        key=issue_key(structure, sk, index),
        project=p,
        type=itype,
        summary=summary_for(r, itype, structure.repositories[cause[0]].name if cause else None),
        description=_description(r, itype),
        status_id=status.id,
        priority_id=PRIORITIES[min(4, int(r.triangular(0, 5, 2)))].id,
        reporter=reporter,
        creator=reporter,
        assignee=assignee,
        labels=tuple(sorted(set(r.sample(_LABELS, r.randrange(3))))),
        story_points=points,
        sprints=sprints,
        rank=f"0|i{index:05x}:",
        resolution=("10000", "Done") if done else None,
        created_ms=created,
        updated_ms=updated,
        resolved_ms=resolved_ms if done else None,
        status_category_changed_ms=category_changed,
        histories=histories,
    )


def _walk_to(walk: _Walk, r: random.Random, author: int | None, target: int) -> None:
    path = walk.workflow.path
    who = -1 if author is None else author
    pos = path.index(walk.status) if walk.status in path else 0
    reworks = 0
    while pos < target:
        roll = r.random()
        if 1 < pos < walk.workflow.done_from and roll < 0.1 and reworks < 2:
            pos -= 1  # review sent it back
            reworks += 1
        elif roll > 0.85 and pos + 2 <= target:
            pos += 2  # skipped a step (e.g. straight past QA)
        else:
            pos += 1
        walk.move(who, path[pos])


def _timestamps(
    r: random.Random,
    index: int,
    events: list[tuple[int, tuple[HistoryItem, ...]]],
    created: int,
    updated: int,
) -> tuple[History, ...]:
    if not events:
        return ()
    span = updated - created
    # Sorted random instants in (created, updated]; the last change is the issue's `updated`.
    offsets = sorted(1 + int(r.random() * (span - 1)) for _ in range(len(events) - 1))
    offsets.append(span)
    return tuple(
        History(history_id(index, n), author, created + off, items)
        for n, ((author, items), off) in enumerate(zip(events, offsets, strict=True))
    )


def _user_item(users: tuple[User, ...], before: int | None, after: int | None) -> HistoryItem:
    """An assignee change: account ids in from/to, display names in the *String keys."""
    b = None if before is None else users[before]
    a = None if after is None else users[after]
    return HistoryItem(
        "assignee",
        "jira",
        "assignee",
        b.account_id if b else None,
        b.display_name if b else None,
        a.account_id if a else None,
        a.display_name if a else None,
    )


def _number_item(fid: str, name: str, before: float | None, after: float) -> HistoryItem:
    return HistoryItem(
        name, "custom", fid, None, None if before is None else str(before), None, str(after)
    )


def _sprint_item(structure: Structure, project: int, after: tuple[int, ...]) -> HistoryItem:
    """Adding a sprint: Jira lists all the issue's sprints, ids in from/to, names in *String."""
    before = after[:-1]

    def ids(nums: tuple[int, ...]) -> str | None:
        return ", ".join(str(sprint_id(project, n)) for n in nums) or None

    def names(nums: tuple[int, ...]) -> str:
        return ", ".join(sprint_name(structure, project, n) for n in nums)

    return HistoryItem(
        "Sprint", "custom", FIELD_SPRINT, ids(before), names(before), ids(after), names(after)
    )


def _description(r: random.Random, itype: int) -> str:
    if itype == TYPE_BUG:
        return "Steps to reproduce:\n1. Open the page\n2. Wait\nExpected: it works. Actual: not."
    if itype == TYPE_INCIDENT:
        return (
            "Alert fired after the latest production deployment. Rolled back while we investigate."
        )
    return r.choice(("", "See the linked design doc.", "Acceptance criteria in the comments."))
