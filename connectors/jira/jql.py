"""Small JQL builders used by the pipeline (quoting, time windows, project lists)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, tzinfo
from itertools import pairwise

from connectors.jira.timestamps import format_jql_datetime


def quote(value: str) -> str:
    """A JQL string literal; backslashes and double quotes escaped.

    https://support.atlassian.com/jira-software-cloud/docs/use-advanced-search-with-jira-query-language-jql/
    """
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def project_clause(project_keys: Sequence[str]) -> str:
    return "project in (" + ", ".join(quote(k) for k in project_keys) + ")"


def updated_since(moment: datetime, tz: tzinfo | str = UTC) -> str:
    """``updated >= "yyyy/MM/dd HH:mm"`` in the searching user's zone (see format_jql_datetime)."""
    return f"updated >= {quote(format_jql_datetime(moment, tz))}"


def sync_jql(
    project_keys: Sequence[str],
    since: datetime | None = None,
    tz: tzinfo | str = UTC,
) -> str:
    """A bounded JQL for a full (``since=None``) or incremental sync, oldest change first.

    Ordering by ``updated ASC, id ASC`` makes the last issue of each committed page a valid
    watermark. Enhanced search rejects unbounded JQL, hence the project restriction.
    """
    return window_jql(project_clause(project_keys), since, tz)


def window_jql(clause: str, since: datetime | None = None, tz: tzinfo | str = UTC) -> str:
    """`sync_jql` for any bounded ``clause`` (one window of a full sync), oldest first."""
    clauses = [clause]
    if since is not None:
        clauses.append(updated_since(since, tz))
    return " AND ".join(clauses) + " ORDER BY updated ASC, id ASC"


def updated_ranges(
    clause: str, oldest: datetime, newest: datetime, parts: int, tz: tzinfo | str = UTC
) -> list[str]:
    """``clause`` split into up to ``parts`` ranges of ``updated`` between ``oldest`` and
    ``newest``, half-open at minute literals (``updated >= a AND updated < b``), the first
    and last open-ended: together they match exactly what ``clause`` matches, each issue
    once (JQL compares ``updated`` with a minute literal as that minute's start)."""
    span = (newest - oldest) / max(parts, 1)
    bounds: list[str] = []
    for n in range(1, parts):
        literal = quote(format_jql_datetime(oldest + span * n, tz))
        if not bounds or literal > bounds[-1]:  # increasing (a DST fall-back repeats an hour)
            bounds.append(literal)
    if not bounds:
        return [clause]
    ranges = [f"{clause} AND updated < {bounds[0]}"]
    ranges.extend(f"{clause} AND updated >= {a} AND updated < {b}" for a, b in pairwise(bounds))
    ranges.append(f"{clause} AND updated >= {bounds[-1]}")
    return ranges
