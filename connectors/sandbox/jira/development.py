"""The development summary of an issue: the dev-status summary endpoint's body and the
"Development" custom field (devsummarycf) that search results carry.

Both come from the same numbers (the issue's linked pull requests), as in Jira Cloud, where
the field is a cached copy of the summary: a string ``"{}"`` for an issue without
development data, else ``"{summaryBean=…Java toString…, devSummaryJson={JSON}}"`` whose
``devSummaryJson`` is ``{"cachedValue": {errors, configErrors, summary}, "isStale": …}``
(recorded search responses in public client tests, e.g. LastSprint/pkg_go_jira_service
``parsing_tests``; ``"customfield_10000": "{}"`` in many recorded Cloud issue payloads).
"""

from __future__ import annotations

import json
from typing import Any

from connectors.sandbox import timefmt
from connectors.sandbox.issue_model import Issue
from connectors.sandbox.org import Org

Json = dict[str, Any]


def summary(org: Org, issue: Issue) -> Json:
    """The ``summary`` object of ``GET /rest/dev-status/latest/issue/summary``."""
    prs = org.pull_requests_for_issue(issue.index)
    by_type = {"GitHub": {"count": len(prs), "name": "GitHub"}} if prs else {}
    open_ = sum(p.state == "OPEN" for p in prs)
    merged = sum(p.state == "MERGED" for p in prs)
    last = max((p.updated_ms for p in prs), default=None)
    last_ts = None if last is None else timefmt.jira_timestamp(last)
    state = "OPEN" if open_ else ("MERGED" if merged else ("DECLINED" if prs else None))
    repos = {p.repository for p in prs}

    def simple(count: int) -> Json:
        return {
            "overall": {
                "count": count,
                "lastUpdated": last_ts if count else None,
                "dataType": "",
                "details": {"total": count},
            },
            "byInstanceType": {"GitHub": {"count": count, "name": "GitHub"}} if count else {},
        }

    return {
        "pullrequest": {
            "overall": {
                "count": len(prs),
                "lastUpdated": last_ts,
                "stateCount": len(prs),
                "state": state,
                "dataType": "pullrequest",
                "details": {
                    "openCount": open_,
                    "mergedCount": merged,
                    "declinedCount": len(prs) - open_ - merged,
                    "total": len(prs),
                },
                "open": bool(open_),
            },
            "byInstanceType": by_type,
        },
        "branch": simple(len(prs)),
        "repository": simple(len(repos)),
        "commit": simple(sum(len(p.commits) for p in prs)),
        "build": simple(0),
        "review": simple(0),
        "deployment-environment": simple(0),
    }


def development_field(org: Org, issue: Issue) -> str:
    """The Development field's value in search results (see the module docstring)."""
    if not org.pr_skeletons.by_issue.get(issue.index):
        return "{}"
    body = {"errors": [], "configErrors": [], "summary": summary(org, issue)}
    cached = json.dumps({"cachedValue": body, "isStale": False}, separators=(",", ":"))
    # The bean part is Java's toString of the same data; clients read only devSummaryJson.
    bean = (
        f"com.atlassian.jira.plugin.devstatus.rest.SummaryBean@{issue.index & 0xFFFFFFF:x}"
        "[summary={…},errors=[],configErrors=[]]"
    )
    return f"{{summaryBean={bean}, devSummaryJson={cached}}}"
