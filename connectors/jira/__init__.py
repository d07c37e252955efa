"""Typed Jira client (Cloud and Data Center) on the shared HTTP stack."""

from connectors.jira.changelogs import ChangelogBatch, sort_histories, split_embedded
from connectors.jira.client import DEFAULT_SEARCH_FIELDS, Deployment, JiraClient
from connectors.jira.jql import project_clause, quote, sync_jql, updated_since
from connectors.jira.search import SearchPage
from connectors.jira.timestamps import JiraDateTime, format_jql_datetime, parse_jira_datetime
from connectors.jira.validation import Rejected

__all__ = [
    "DEFAULT_SEARCH_FIELDS",
    "ChangelogBatch",
    "Deployment",
    "JiraClient",
    "JiraDateTime",
    "Rejected",
    "SearchPage",
    "format_jql_datetime",
    "parse_jira_datetime",
    "project_clause",
    "quote",
    "sort_histories",
    "split_embedded",
    "sync_jql",
    "updated_since",
]
