"""Typed Jira client (Cloud and Data Center) on the shared HTTP stack.

How a pipeline reads issues with complete changelogs, page by page::

    client = JiraClient.cloud(base_url, email, Secret(token), cancel=job.cancel, observer=...)
    tz = client.myself().time_zone or "UTC"          # JQL literals are in the user's zone
    jql = sync_jql(project_keys, since=None)          # full sync
    jql = sync_jql(project_keys, since=watermark - overlap, tz=tz)   # incremental
    for page in client.iter_search(jql, fields=[...], expand=["changelog"],
                                   start_token=checkpoint.page_token):
        changelogs = client.complete_changelogs(page.issues)   # ≤1 bulk call per page
        load(page.issues, changelogs.histories, page.rejected + changelogs.rejected)
        commit(checkpoint(page.next_page_token, last issue's updated))
"""

from connectors.jira.changelogs import ChangelogBatch, sort_histories, split_embedded
from connectors.jira.client import (
    DEFAULT_SEARCH_FIELDS,
    JIRA_MAX_IN_FLIGHT,
    Deployment,
    JiraClient,
    jira_gate,
)
from connectors.jira.jql import (
    project_clause,
    quote,
    sync_jql,
    updated_ranges,
    updated_since,
    window_jql,
)
from connectors.jira.search import SearchPage
from connectors.jira.timestamps import JiraDateTime, format_jql_datetime, parse_jira_datetime
from connectors.validation import Rejected

__all__ = [
    "DEFAULT_SEARCH_FIELDS",
    "JIRA_MAX_IN_FLIGHT",
    "ChangelogBatch",
    "Deployment",
    "JiraClient",
    "JiraDateTime",
    "Rejected",
    "SearchPage",
    "format_jql_datetime",
    "jira_gate",
    "parse_jira_datetime",
    "project_clause",
    "quote",
    "sort_histories",
    "split_embedded",
    "sync_jql",
    "updated_ranges",
    "updated_since",
    "window_jql",
]
