"""Dev-status requests only where they pay: the Development field in search results decides."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from connectors.sandbox.org import Org
from pulse_console.pipelines.jira import load
from storage import load as storage_load
from storage.db import Database
from tests.pipelines.harness import Sandbox, add_integration, expected, stored, sync

DEV_STATUS = "GET /rest/dev-status/latest/issue/detail"
SEARCH = "POST /rest/api/3/search/jql"
CHANGELOGS = "POST /rest/api/3/changelog/bulkfetch"


def _issues_with_pull_requests(org: Org) -> int:
    return sum(1 for i in range(org.issue_count) if org.pull_requests_for_issue(i))


def test_links_are_complete_while_only_issues_with_pull_requests_cost_a_request(
    database: Database,
) -> None:
    org = Org(7, "small")
    sandbox = Sandbox(org)
    secrets = add_integration(database)

    result = sync(sandbox, database, secrets)

    assert stored(database).links == expected(org).links
    with_prs = _issues_with_pull_requests(org)
    assert 0 < with_prs < org.issue_count
    assert sandbox.requests.count(DEV_STATUS) == with_prs
    # Per 1,000 issues: the dev-status share plus ≤ 20 for pages (search + changelogs), a
    # partial last page per window (one per project), and a handful of fixed calls
    # (metadata, a count per project) that do not grow with the number of issues.
    issues = result.stats["issues"]
    fixed = sum(1 for r in sandbox.requests if r not in (DEV_STATUS, SEARCH, CHANGELOGS))
    paged = len(sandbox.requests) - sandbox.requests.count(DEV_STATUS) - fixed
    windows = len(org.projects)
    assert fixed <= 9 + windows
    assert 1000 * paged / issues <= 20 + 1000 * (2 + windows) / issues  # + reconcile
    assert result.api_calls == len(sandbox.requests)


def test_a_full_resync_asks_again_only_for_the_issue_whose_summary_changed(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    org = Org(7, "tiny")
    sandbox = Sandbox(org)
    secrets = add_integration(database)
    lookups: list[int] = []
    real = load.stored_dev_summaries
    monkeypatch.setattr(load, "stored_dev_summaries", lambda *a: lookups.append(1) or real(*a))
    probes: list[int] = []
    real_probe = storage_load._same_versions
    monkeypatch.setattr(
        storage_load, "_same_versions", lambda *a: probes.append(1) or real_probe(*a)
    )
    sync(sandbox, database, secrets)
    # The first sync found nothing stored: no summary nor stored version was looked up
    # (the links and rows stored are the same: `expected` here, the harness's other tests).
    assert lookups == [] and probes == []
    assert stored(database).links == expected(org).links
    links = stored(database).links
    with database.engine.begin() as conn:
        changed = conn.execute(
            text(
                "UPDATE work_items SET dev_summary = 'an older summary' WHERE id ="
                " (SELECT min(work_item_id) FROM work_item_links) RETURNING external_id"
            )
        ).scalar_one()
    sandbox.requests.clear()

    sync(sandbox, database, secrets, full=True)

    assert lookups and probes  # a full resync compares with what its items hold
    assert sandbox.requests.count(DEV_STATUS) == 1
    assert stored(database).links == links
    with database.engine.connect() as conn:
        summary = conn.execute(
            text("SELECT dev_summary FROM work_items WHERE external_id = :id"), {"id": changed}
        ).scalar_one()
    assert summary is not None and summary != "an older summary"
