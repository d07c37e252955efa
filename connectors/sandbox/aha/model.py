"""The Aha! account of the generated organisation: plain data, no JSON shapes.

``AhaOrg(org, features=N)`` derives one Aha! product per Jira project of ``org`` and spreads
``N`` features over them (default: one per Jira issue). Everything is drawn from per-record
random streams keyed by the org's seed, so the same arguments give the same account:

- releases (``PFX-R-n``), goals (``PFX-G-n``), initiatives (``PFX-S-n``, each serving goals),
  epics (``PFX-E-n``), features (``PFX-n``) with requirements (``PFX-n-k``), ideas
  (``PFX-I-n``) with votes, some promoted to features;
- about two features in three carry the Jira integration fields of the Jira issue with the
  same number in the matching project (``key`` and ``url``), when that issue exists;
- every feature, requirement, epic and idea has a workflow status history.

``apply(AhaMutation)`` creates, updates and deletes features (and their requirements) and
moves the account's clock, so incremental syncs have something to find.
"""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass, field

from pydantic import BaseModel, Field

from connectors.sandbox.org import Org
from connectors.sandbox.seeding import mix64, rng
from connectors.sandbox.timefmt import DAY_MS, HOUR_MS, MINUTE_MS

STREAM_AHA = 40  # per-record streams; far from the org's own stream numbers

FEATURE_FLOW = (
    ("Under consideration", False),
    ("Ready to develop", False),
    ("In development", False),
    ("Ready to ship", False),
    ("Shipped", True),
)
WONT = ("Will not implement", True)
IDEA_FLOW = (
    ("Needs review", False),
    ("Future consideration", False),
    ("Planned", False),
    ("Shipped", True),
)
RELEASE_FLOW = (("Planned", False), ("In progress", False), ("Released", True))
GOAL_STATUSES = ("on_track", "at_risk", "off_track", "achieved")


@dataclass(frozen=True, slots=True)
class Stay:
    """One stay in a workflow status (``workflow_status_times``)."""

    status: str
    complete: bool
    started_ms: int
    ended_ms: int | None


@dataclass(frozen=True, slots=True)
class Product:
    index: int
    id: str
    prefix: str
    name: str
    jira_key: str
    created_ms: int


@dataclass(frozen=True, slots=True)
class Release:
    id: str
    ref: str
    product: int
    name: str
    start_ms: int
    release_ms: int
    released: bool
    status: str
    created_ms: int
    updated_ms: int
    goals: tuple[int, ...]  # goal numbers within the product


@dataclass(frozen=True, slots=True)
class Goal:
    id: str
    ref: str
    product: int
    kind: str  # "goal" | "initiative"
    name: str
    status: str
    progress: int
    start_ms: int
    end_ms: int
    created_ms: int
    updated_ms: int
    goals: tuple[str, ...] = ()  # an initiative's goal refs


@dataclass(frozen=True, slots=True)
class Record:
    """A feature, requirement, epic or idea (``kind``)."""

    kind: str  # "feature" | "requirement" | "epic" | "idea"
    id: str
    ref: str
    product: int
    name: str
    created_ms: int
    updated_ms: int
    history: tuple[Stay, ...]
    assignee: int | None  # user index
    creator: int
    release: str | None = None  # release ref
    epic: str | None = None
    initiative: str | None = None
    goals: tuple[str, ...] = ()
    requirements: tuple[str, ...] = ()  # a feature's requirement refs
    parent: str | None = None  # a requirement's feature ref
    jira_key: str | None = None
    votes: int = 0
    feature: str | None = None  # an idea's promoted feature ref
    custom: tuple[tuple[str, str], ...] = ()

    @property
    def status(self) -> Stay:
        return self.history[-1]


class AhaMutation(BaseModel):
    """How many features to create, update (status moves on) and delete in one step."""

    create: int = Field(default=0, ge=0)
    update: int = Field(default=0, ge=0)
    delete: int = Field(default=0, ge=0)


@dataclass
class AhaChanges:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)


def _aha_id(seed: int, kind: int, index: int) -> str:
    # Aha! ids are 19-digit decimal strings (API_NOTES §4 example "6168375418677811509").
    return str(6_000_000_000_000_000_000 + mix64(seed, STREAM_AHA, kind, index) % 10**18)


class AhaOrg:
    """The generated Aha! account (see the module docstring)."""

    def __init__(
        self,
        org: Org,
        *,
        features: int | None = None,
        releases_per_product: int = 6,
        goals_per_product: int = 3,
        initiatives_per_product: int = 2,
        epics_per_product: int = 4,
        ideas_per_product: int = 12,
    ) -> None:
        self.org = org
        self.seed = org.seed
        self.now_ms = org.base_now_ms
        self.start_ms = org.start_ms
        self._lock = threading.RLock()
        self.version = 0
        self.products: tuple[Product, ...] = tuple(
            Product(
                p.index,
                _aha_id(self.seed, 1, p.index),
                f"A{p.key}",
                p.name,
                p.key,
                self.start_ms - 30 * DAY_MS,
            )
            for p in org.projects
        )
        self.releases: dict[str, Release] = {}
        self.goals: dict[str, Goal] = {}
        self.records: dict[str, Record] = {}  # ref -> record, in creation order
        self.deleted: set[str] = set()
        total = org.issue_count if features is None else features
        self._feature_numbers = [0] * len(self.products)
        # Per product: release, epic, goal and initiative refs a new feature may point at.
        self._plans: list[tuple[list[str], list[str], list[str], list[str]]] = []
        for product in self.products:
            self._product_plan(
                product,
                releases_per_product,
                goals_per_product,
                initiatives_per_product,
                epics_per_product,
                ideas_per_product,
            )
        for i in range(total):
            self._new_feature(i % len(self.products), self.start_ms)
        self._ideas(ideas_per_product)

    # ------------------------------------------------------------------ generation
    def _product_plan(
        self, product: Product, releases: int, goals: int, initiatives: int, epics: int, ideas: int
    ) -> None:
        p, pfx, s = product.index, product.prefix, self.seed
        r = rng(s, STREAM_AHA, 1000 + p)
        span = self.now_ms - self.start_ms
        for g in range(1, goals + 1):
            start = self.start_ms + r.randrange(span // 2)
            self.goals[f"{pfx}-G-{g}"] = Goal(
                _aha_id(s, 2, p * 100 + g),
                f"{pfx}-G-{g}",
                p,
                "goal",
                f"{product.name} goal {g}",
                GOAL_STATUSES[r.randrange(len(GOAL_STATUSES))],
                r.randrange(0, 101),
                start,
                start + 180 * DAY_MS,
                start - DAY_MS,
                start + r.randrange(span // 2),
            )
        for k in range(1, initiatives + 1):
            start = self.start_ms + r.randrange(span // 2)
            served = tuple(f"{pfx}-G-{g}" for g in range(1, goals + 1) if (g + k) % 2 == 0)
            self.goals[f"{pfx}-S-{k}"] = Goal(
                _aha_id(s, 3, p * 100 + k),
                f"{pfx}-S-{k}",
                p,
                "initiative",
                f"{product.name} initiative {k}",
                GOAL_STATUSES[r.randrange(3)],
                r.randrange(0, 101),
                start,
                start + 120 * DAY_MS,
                start - DAY_MS,
                start + r.randrange(span // 2),
                served or (f"{pfx}-G-1",),
            )
        step = span // max(1, releases)
        for n in range(1, releases + 1):
            start = self.start_ms + (n - 1) * step
            release = start + step
            released = release <= self.now_ms - DAY_MS
            status = (
                "Released" if released else ("In progress" if start < self.now_ms else "Planned")
            )
            self.releases[f"{pfx}-R-{n}"] = Release(
                _aha_id(s, 4, p * 100 + n),
                f"{pfx}-R-{n}",
                p,
                f"{product.name} {2025 + n // 4}.{n % 4}",
                start,
                release,
                released,
                status,
                start - 7 * DAY_MS,
                min(self.now_ms, release + HOUR_MS),
                tuple(g for g in range(1, goals + 1) if (g + n) % goals == 0) or (1,),
            )
        for e in range(1, epics + 1):
            created = self.start_ms + r.randrange(span // 3)
            history = self._history(mix64(s, 5, p, e), created, FEATURE_FLOW, allow_wont=False)
            ref = f"{pfx}-E-{e}"
            self.records[ref] = Record(
                "epic",
                _aha_id(s, 5, p * 100 + e),
                ref,
                p,
                f"{product.name} epic {e}",
                created,
                max(st.started_ms for st in history),
                history,
                self._member(p, e),
                self._member(p, e + 1),
                release=f"{pfx}-R-{1 + e % releases}",
                initiative=f"{pfx}-S-{1 + e % initiatives}" if initiatives else None,
                goals=(f"{pfx}-G-{1 + e % goals}",) if goals else (),
            )
        mine = [g for g in self.goals.values() if g.product == p]
        self._plans.append(
            (
                [x.ref for x in self.releases.values() if x.product == p],
                [f"{pfx}-E-{e}" for e in range(1, epics + 1)],
                [g.ref for g in mine if g.kind == "goal"],
                [g.ref for g in mine if g.kind != "goal"],
            )
        )

    def _member(self, product: int, salt: int) -> int:
        members = self.org.projects[product].members
        return members[mix64(self.seed, STREAM_AHA, product, salt) % len(members)]

    def _history(
        self,
        key: int,
        created_ms: int,
        flow: tuple[tuple[str, bool], ...],
        *,
        allow_wont: bool = True,
        until_ms: int | None = None,
    ) -> tuple[Stay, ...]:
        """A walk along ``flow`` from ``created_ms``; each step a few hours to days later."""
        r = rng(self.seed, STREAM_AHA, key)
        end = self.now_ms if until_ms is None else until_ms
        steps = r.randrange(1, len(flow) + 1)
        names: list[tuple[str, bool]] = list(flow[:steps])
        if allow_wont and steps < len(flow) and r.random() < 0.08:
            names.append(WONT)
        stays: list[Stay] = []
        at = created_ms
        for i, (name, complete) in enumerate(names):
            stays.append(Stay(name, complete, at, None))
            if i + 1 < len(names):
                nxt = at + r.randrange(2 * HOUR_MS, 12 * DAY_MS)
                if nxt >= end:
                    break
                stays[-1] = dataclasses.replace(stays[-1], ended_ms=nxt)
                at = nxt
        return tuple(stays)

    def _new_feature(self, p: int, earliest_ms: int) -> Record:
        product = self.products[p]
        pfx, s = product.prefix, self.seed
        self._feature_numbers[p] += 1
        n = self._feature_numbers[p]
        ref = f"{pfx}-{n}"
        key = mix64(s, 6, p, n)
        r = rng(s, STREAM_AHA, key)
        span = max(1, self.now_ms - earliest_ms - DAY_MS)
        created = earliest_ms + r.randrange(span)
        history = self._history(key, created, FEATURE_FLOW)
        releases, epics, goals, initiatives = self._plans[p]
        release = releases[r.randrange(len(releases))] if releases else None
        jira = None
        numbers = self.org.skeletons.by_project[p]
        if n <= len(numbers) and r.random() < 0.67:
            jira = f"{product.jira_key}-{n}"
        req_refs: list[str] = []
        for k in range(1, r.randrange(0, 3) + 1):
            req_ref = f"{ref}-{k}"
            req_history = self._history(mix64(key, k), created + k * HOUR_MS, FEATURE_FLOW)
            self.records[req_ref] = Record(
                "requirement",
                _aha_id(s, 7, mix64(key, k)),
                req_ref,
                p,
                f"Requirement {k} of {ref}",
                created + k * HOUR_MS,
                max(st.started_ms for st in req_history),
                req_history,
                self._member(p, n + k),
                self._member(p, n),
                parent=ref,
            )
            req_refs.append(req_ref)
        updated = max([st.started_ms for st in history] + [created + len(req_refs) * HOUR_MS])
        record = Record(
            "feature",
            _aha_id(s, 6, key),
            ref,
            p,
            f"{product.name} feature {n}",
            created,
            min(self.now_ms, updated),
            history,
            self._member(p, n) if r.random() < 0.9 else None,
            self._member(p, n + 1),
            release=release,
            epic=epics[r.randrange(len(epics))] if epics and r.random() < 0.6 else None,
            initiative=initiatives[r.randrange(len(initiatives))]
            if initiatives and r.random() < 0.5
            else None,
            goals=(goals[r.randrange(len(goals))],) if goals and r.random() < 0.7 else (),
            requirements=tuple(req_refs),
            jira_key=jira,
            custom=(("Customer impact", ("Low", "Medium", "High")[r.randrange(3)]),),
        )
        self.records[ref] = record
        return record

    def _ideas(self, per_product: int) -> None:
        s = self.seed
        for product in self.products:
            p = product.index
            features = [x for x in self.records.values() if x.kind == "feature" and x.product == p]
            for i in range(1, per_product + 1):
                key = mix64(s, 8, p, i)
                r = rng(s, STREAM_AHA, key)
                created = self.start_ms + r.randrange(max(1, (self.now_ms - self.start_ms) // 2))
                history = self._history(key, created, IDEA_FLOW)
                promoted = None
                if features and r.random() < 0.5:
                    promoted = features[(i * 7) % len(features)].ref
                ref = f"{product.prefix}-I-{i}"
                self.records[ref] = Record(
                    "idea",
                    _aha_id(s, 8, key),
                    ref,
                    p,
                    f"Idea {i} for {product.name}",
                    created,
                    max(st.started_ms for st in history),
                    history,
                    None,
                    self._member(p, i),
                    votes=r.randrange(0, 60),
                    feature=promoted,
                )

    # ------------------------------------------------------------------ read model
    def live(self, kind: str, product: int) -> list[Record]:
        """Records of ``kind`` in ``product`` that exist now, in creation order."""
        with self._lock:
            return [
                x
                for x in self.records.values()
                if x.kind == kind and x.product == product and x.ref not in self.deleted
            ]

    def requirements_of(self, feature: Record) -> list[Record]:
        return [self.records[r] for r in feature.requirements if r not in self.deleted]

    def product_by_id(self, product_id: str) -> Product | None:
        return next((p for p in self.products if p.id == product_id), None)

    def user_name(self, index: int) -> tuple[str, str, str]:
        user = self.org.user(index)
        return (_aha_id(self.seed, 9, index), user.display_name, user.email or "")

    # ------------------------------------------------------------------ mutations
    def apply(self, plan: AhaMutation) -> AhaChanges:
        """Move the clock an hour on and make the planned changes (features only)."""
        with self._lock:
            self.version += 1
            self.now_ms += HOUR_MS
            now = self.now_ms
            changes = AhaChanges()
            r = rng(self.seed, STREAM_AHA, 10_000_000 + self.version)
            alive = [
                x
                for x in self.records.values()
                if x.kind == "feature" and x.ref not in self.deleted
            ]
            for _ in range(plan.update):
                feature = alive[r.randrange(len(alive))]
                changes.updated.append(self._advance(feature, now).ref)
            for _ in range(plan.delete):
                feature = alive.pop(r.randrange(len(alive)))
                self.deleted.add(feature.ref)
                self.deleted.update(feature.requirements)
                changes.deleted.append(feature.ref)
            for _ in range(plan.create):
                p = r.randrange(len(self.products))
                record = self._new_feature(p, now - MINUTE_MS)
                record = dataclasses.replace(
                    record,
                    created_ms=now - MINUTE_MS,
                    updated_ms=now,
                    history=(Stay(FEATURE_FLOW[0][0], False, now - MINUTE_MS, None),),
                )
                self.records[record.ref] = record
                for req in record.requirements:
                    self.records[req] = dataclasses.replace(
                        self.records[req], created_ms=now - MINUTE_MS, updated_ms=now,
                        history=(Stay(FEATURE_FLOW[0][0], False, now - MINUTE_MS, None),),
                    )  # fmt: skip
                changes.created.append(record.ref)
            return changes

    def _advance(self, feature: Record, now: int) -> Record:
        """The feature moves one status on (or back to the start from a final one)."""
        names = [name for name, _ in FEATURE_FLOW]
        current = feature.status.status
        nxt = FEATURE_FLOW[0]
        if current in names and names.index(current) + 1 < len(FEATURE_FLOW):
            nxt = FEATURE_FLOW[names.index(current) + 1]
        closed = dataclasses.replace(feature.history[-1], ended_ms=now)
        history = (*feature.history[:-1], closed, Stay(nxt[0], nxt[1], now, None))
        updated = dataclasses.replace(
            feature, history=history, updated_ms=now, name=f"{feature.name} (v{self.version})"
        )
        self.records[feature.ref] = updated
        return updated
