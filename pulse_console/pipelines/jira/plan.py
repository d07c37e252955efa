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
there is one project), plus two one-issue searches (oldest, newest) per large project.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

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
    map_each: Callable[[Callable[[str], Planned], list[str]], Iterable[Planned]] = map,
) -> WindowPlan:
    """The windows of a full sync of ``project_keys`` (see the module docstring);
    ``map_each`` plans the projects (e.g. a thread pool's ``map``: their calls at once)."""

    def project(key: str) -> Planned:
        clause = project_clause([key])
        count = source.approximate_count(f"{clause} ORDER BY updated ASC, id ASC")
        parts = math.ceil(count / window_issues) if count else 1
        if parts <= 1:
            return [clause], count
        oldest = source.updated_bound(clause, newest=False)
        newest = source.updated_bound(clause, newest=True)
        if oldest is None or newest is None or newest <= oldest:
            return [clause], count
        return updated_ranges(clause, oldest, newest, parts, tz), count

    planned = list(map_each(project, project_keys))
    # Largest windows first: the chains then finish close together, instead of one chain
    # left alone with a big window that happened to come last.
    sized = [(count / len(clauses), clause) for clauses, count in planned for clause in clauses]
    sized.sort(key=lambda pair: -pair[0])
    return WindowPlan([clause for _, clause in sized], sum(n for _, n in planned))
