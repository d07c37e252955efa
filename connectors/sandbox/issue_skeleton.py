"""The cheap part of every issue, computed for the whole org once: project, number, type,
created, updated and whether it is finished.

These columns are what searching and ordering need (``project in``, ``updated >=``, ``ORDER
BY updated``), so they are kept in compact arrays (~25 bytes an issue: 2.5 MB for the large
org); everything else about an issue is generated on demand from (seed, index) by
``issue_detail``. Issue ids grow with creation time, as Jira's do.
"""

from __future__ import annotations

import bisect
import itertools
import math
import random
from array import array
from dataclasses import dataclass, field

from connectors.sandbox import deploy_schedule as ds
from connectors.sandbox.catalog import ISSUE_TYPES, RANDOM_TYPE_WEIGHTS, TYPE_INCIDENT
from connectors.sandbox.seeding import STREAM_ISSUE_SKELETON, mix64
from connectors.sandbox.structure import Structure
from connectors.sandbox.timefmt import HOUR_MS, MINUTE_MS

FLAG_DONE = 1  # walked its workflow to the end
FLAG_UNTOUCHED = 2  # never left its initial status
FLAG_CHURN = 4  # has many (>40) changelog entries, to exercise changelog paging

FIRST_ISSUE_ID = 10001


@dataclass(slots=True)
class IssueSkeletons:
    project: array[int] = field(default_factory=lambda: array("H"))
    number: array[int] = field(default_factory=lambda: array("L"))
    type: array[int] = field(default_factory=lambda: array("B"))
    created: array[int] = field(default_factory=lambda: array("q"))
    updated: array[int] = field(default_factory=lambda: array("q"))
    flags: array[int] = field(default_factory=lambda: array("B"))
    # Issue indices per project, in key-number order (number n is at position n - 1).
    by_project: list[array[int]] = field(default_factory=list)
    # Incident issue index -> (repository index, production deployment slot it follows).
    incident_cause: dict[int, tuple[int, int]] = field(default_factory=dict)
    # (repository index, production slot) -> incident issue index.
    incident_by_slot: dict[tuple[int, int], int] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.created)


def build_skeletons(
    seed: int, structure: Structure, count: int, start_ms: int, now_ms: int
) -> IssueSkeletons:
    sk = IssueSkeletons()
    projects = structure.projects
    sk.by_project = [array("L") for _ in projects]
    cum_weights = list(itertools.accumulate(p.weight for p in projects))
    type_cum = list(itertools.accumulate(RANDOM_TYPE_WEIGHTS))
    span = now_ms - start_ms
    for i in range(count):
        r = random.Random(mix64(seed, STREAM_ISSUE_SKELETON, i))
        # Evenly spread creation with jitter inside the issue's own slot: ids grow with time.
        created = start_ms + int((i + r.random()) * span / count)
        p = bisect.bisect_right(cum_weights, r.random() * cum_weights[-1])
        p = min(p, len(projects) - 1)
        t = bisect.bisect_right(type_cum, r.random() * type_cum[-1])
        if r.random() < 0.025 and projects[p].repositories:
            cause = _incident_cause(seed, structure, p, created, start_ms, r, sk)
            if cause is not None:
                t = TYPE_INCIDENT
                sk.incident_cause[i] = cause
                sk.incident_by_slot[cause] = i
        median = ISSUE_TYPES[t].median_hours * HOUR_MS
        lifetime = int(r.lognormvariate(math.log(median), 0.9)) + MINUTE_MS
        flags = 0
        roll = r.random()
        if roll < 0.06 and t != TYPE_INCIDENT:
            flags |= FLAG_UNTOUCHED
            updated = created + int(r.random() * HOUR_MS)
        elif created + lifetime < now_ms - HOUR_MS:
            flags |= FLAG_DONE
            updated = created + lifetime
        else:
            updated = now_ms - int(r.random() * min(now_ms - created, 48 * HOUR_MS))
        if roll > 0.97:
            flags |= FLAG_CHURN
        updated = max(updated, created + 1000)
        sk.project.append(p)
        sk.by_project[p].append(i)
        sk.number.append(len(sk.by_project[p]))
        sk.type.append(t)
        sk.created.append(created)
        sk.updated.append(min(updated, now_ms))
        sk.flags.append(flags)
    return sk


def _incident_cause(
    seed: int,
    structure: Structure,
    project: int,
    created: int,
    start_ms: int,
    r: random.Random,
    sk: IssueSkeletons,
) -> tuple[int, int] | None:
    """The production deployment this incident follows (forced to fail), if one is free."""
    repos = structure.projects[project].repositories
    repo = repos[r.randrange(len(repos))]
    slot = ds.slot_before(seed, start_ms, repo, ds.Environment.PRODUCTION, created)
    if slot is None or (repo, slot) in sk.incident_by_slot:
        return None
    return repo, slot
