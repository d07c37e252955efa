"""Small JQL builders used by the pipeline (quoting, time windows, project lists)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, tzinfo

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
    clauses = [project_clause(project_keys)]
    if since is not None:
        clauses.append(updated_since(since, tz))
    return " AND ".join(clauses) + " ORDER BY updated ASC, id ASC"
