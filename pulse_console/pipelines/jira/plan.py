"""Splitting a full Jira sync into windows that can be fetched at once.

A ``nextPageToken`` chain is sequential: page n+1 needs page n's token. A full sync's JQL
(``project in (…) ORDER BY updated ASC, id ASC``) is therefore split into independent
windows, each its own chain (pipelines/windows.py): one per project, and a project of more
than ``window_issues`` issues into ranges of ``updated`` of about that many issues each
(from its oldest and newest ``updated``, evenly in time). Together the windows match exactly
what the full JQL matches, each issue once (connectors/jira/jql.py `updated_ranges`). The
windows are listed largest first (by their approximate issues), so the chains, which take
them in that order, finish close together.

Costs one approximate count per project (replacing the one count of the whole JQL when
there is one project), plus two one-issue searches (oldest, newest) per large project: the
counts sent at once, then every bound at once (two round trips, however many projects).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from connectors.jira import project_clause, updated_ranges

# A one-issue search for a bound of ``updated`` asks only for that field.
BOUND_FIELDS = ("updated",)


Planned = tuple[list[str], int]
"""One project's window clauses and its approximate issue count."""


@dataclass(frozen=True)
class WindowPlan:
    """The window clauses (without ORDER BY) and the approximate issues they hold."""

    clauses: list[str]
    total: int


class PlanSource(Protocol):
    """What planning needs from Jira (JiraExtract provides it)."""

    def approximate_count(self, jql: str) -> int: ...

    def updated_bound(self, clause: str, *, newest: bool) -> datetime | None: ...


def plan_windows(
    source: PlanSource,
    project_keys: list[str],
    window_issues: int,
    tz: str,
    *,
    map_each: Callable[[Callable[[Any], Any], list[Any]], Iterable[Any]] = map,
) -> WindowPlan:
    """The windows of a full sync of ``project_keys`` (see the module docstring);
    ``map_each`` sends a step's calls (e.g. a thread pool's ``map``: at once). Two steps,
    whatever the number of projects: every project's count, then both bounds of every
    large project."""
    clauses = {key: project_clause([key]) for key in project_keys}

    def count(key: str) -> int:
        return source.approximate_count(f"{clauses[key]} ORDER BY updated ASC, id ASC")

    counts = dict(zip(project_keys, map_each(count, project_keys), strict=True))
    parts = {k: math.ceil(n / window_issues) if n else 1 for k, n in counts.items()}
    large = [k for k in project_keys if parts[k] > 1]
    ends = [(key, newest) for key in large for newest in (False, True)]

    def bound(end: tuple[str, bool]) -> datetime | None:
        return source.updated_bound(clauses[end[0]], newest=end[1])

    found = dict(zip(ends, map_each(bound, ends), strict=True))
    planned: list[Planned] = []
    for key in project_keys:
        oldest, newest = found.get((key, False)), found.get((key, True))
        if parts[key] <= 1 or oldest is None or newest is None or newest <= oldest:
            planned.append(([clauses[key]], counts[key]))
        else:
            ranges = updated_ranges(clauses[key], oldest, newest, parts[key], tz)
            planned.append((ranges, counts[key]))
    # Largest windows first: the chains then finish close together, instead of one chain
    # left alone with a big window that happened to come last.
    sized = [(n / len(windows), window) for windows, n in planned for window in windows]
    sized.sort(key=lambda pair: -pair[0])
    return WindowPlan([window for _, window in sized], sum(n for _, n in planned))
