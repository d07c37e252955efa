"""Full and incremental Jira syncs against the sandbox simulator (in-process transport)."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import text

from connectors.sandbox.mutations import MutationPlan
from connectors.sandbox.org import Org
from pulse_console.pipelines.base import Progress
from pulse_console.pipelines.jira.state import SCOPE
from storage.db import Database
from tests.pipelines.harness import (
    Sandbox,
    add_integration,
    context,
    expected,
    full_dump,
    stored,
    sync,
    table_counts,
)


def test_full_sync_of_the_small_org_lands_exactly_what_the_generator_produced(
    database: Database,
) -> None:
    org = Org(7, "small")
    sandbox = Sandbox(org)
    secrets = add_integration(database)
    progress: list[Progress] = []

    result = sandbox.pipeline().run(context(database, secrets, progress=progress))

    want, got = expected(org), stored(database)
    assert len(got.issues) == len(want.issues) == org.spec.issues
    assert got.issues == want.issues
    assert got.transitions == want.transitions
    assert got.links == want.links and len(got.links) > 0
    counts = table_counts(database)
    assert counts["projects"] == len(org.projects)
    assert counts["statuses"] == 14 and counts["quarantined_payloads"] == 0
    assert counts["source_users"] == len(org.users) + 1  # plus the automation app
    assert result.stats["mode"] == "full" and result.stats["inserted"] == org.spec.issues
    assert result.stats["transitions"] == len(want.transitions)
    # Progress went through every phase and ended with the total known.
    phases = {p.phase for p in progress}
    assert {"discovering", "issues", "loading", "reconciling", "done"} <= phases
    assert progress[-1].done == org.spec.issues and progress[-1].total == org.spec.issues


def test_stored_fields_match_the_payload_field_by_field(database: Database) -> None:
    org = Org(7, "tiny")
    sandbox = Sandbox(org)
    secrets = add_integration(database)
    sync(sandbox, database, secrets)

    issue = next(i for i in (org.issue(n) for n in range(org.issue_count)) if i and i.assignee)
    with database.engine.connect() as conn:
        row = conn.execute(
            text("SELECT * FROM work_items WHERE external_id = :id"), {"id": issue.id}
        ).one()
        statuses = dict(conn.execute(text("SELECT name, category FROM statuses")).all())
        authors = (
            conn.execute(
                text(
                    "SELECT DISTINCT t.author FROM work_item_transitions t JOIN work_items w"
                    " ON w.id = t.work_item_id WHERE w.external_id = :id"
                ),
                {"id": issue.id},
            )
            .scalars()
            .all()
        )
    assert row.key == issue.key and row.source == "jira"
    assert row.summary == issue.summary
    assert row.assignee == org.user(issue.assignee).account_id
    assert row.created_at.timestamp() * 1000 == pytest.approx(issue.created_ms)
    assert row.updated_at.timestamp() * 1000 == pytest.approx(issue.updated_ms)
    assert row.raw["key"] == issue.key and "changelog" not in row.raw
    # Custom fields are stored by their names, not their ids.
    assert "Rank" in row.custom_fields
    assert not any(k.startswith("customfield_") for k in row.custom_fields)
    assert statuses["In Progress"] == "indeterminate" and statuses["Done"] == "done"
    want_authors = {org.user(h.author).account_id for h in issue.histories}
    assert set(authors) == want_authors


def test_second_sync_without_changes_makes_few_calls_and_writes_nothing(
    database: Database,
) -> None:
    org = Org(7, "tiny")
    sandbox = Sandbox(org)
    secrets = add_integration(database)
    sync(sandbox, database, secrets)
    before = full_dump(database)
    sandbox.requests.clear()

    result = sync(sandbox, database, secrets)

    assert result.stats["mode"] == "incremental"
    assert result.api_calls <= 4, sandbox.requests
    assert result.stats["inserted"] == result.stats["updated"] == 0
    assert result.stats["transitions"] == result.stats["links"] == 0
    assert result.stats["deactivated"] == 0
    assert full_dump(database) == before


def test_incremental_sync_converges_after_updates_creations_moves_and_deletions(
    database: Database,
) -> None:
    org = Org(11, "small")
    sandbox = Sandbox(org)
    secrets = add_integration(database)
    sync(sandbox, database, secrets)
    report = org.apply(MutationPlan(create=7, update=15, move=4, delete=5))
    sandbox.requests.clear()

    result = sync(sandbox, database, secrets)

    assert result.stats["mode"] == "incremental"
    assert stored(database) == expected(org)
    assert result.stats["deactivated"] == len(report.deleted)
    # Incremental: far fewer calls than the first run's per-issue dev-status requests.
    assert result.api_calls < 100
    with database.engine.connect() as conn:
        for old_key, new_key in report.moved:
            rows = conn.execute(
                text("SELECT key, active FROM work_items WHERE key IN (:o, :n)"),
                {"o": old_key, "n": new_key},
            ).all()
            assert rows == [(new_key, True)], "a moved issue is updated, not duplicated"
        deleted = conn.execute(
            text("SELECT count(*) FROM work_items WHERE NOT active")
        ).scalar_one()
        assert deleted == len(report.deleted)
        total = conn.execute(text("SELECT count(*) FROM work_items")).scalar_one()
    assert total == org.spec.issues + len(report.created)


def test_configured_projects_limit_the_sync_and_moving_out_deactivates(
    database: Database,
) -> None:
    org = Org(7, "small")
    keys = sorted(p.key for p in org.projects)[:2]
    sandbox = Sandbox(org)
    secrets = add_integration(database, config={"projects": keys})
    sync(sandbox, database, secrets)
    assert stored(database) == expected(org, set(keys))

    org.apply(MutationPlan(move=12))
    sync(sandbox, database, secrets)
    assert stored(database) == expected(org, set(keys))


def test_full_flag_resyncs_everything_and_keeps_one_row_per_issue(database: Database) -> None:
    org = Org(7, "tiny")
    sandbox = Sandbox(org)
    secrets = add_integration(database)
    sync(sandbox, database, secrets)
    before = full_dump(database)

    result = sync(sandbox, database, secrets, full=True)

    assert result.stats["mode"] == "full" and result.stats["unchanged"] == org.spec.issues
    assert full_dump(database) == before
    with database.engine.connect() as conn:
        ids = conn.execute(text("SELECT external_id FROM work_items")).scalars().all()
        state = conn.execute(
            text("SELECT state FROM checkpoints WHERE scope = :s"), {"s": SCOPE}
        ).scalar_one()
    assert max(Counter(ids).values()) == 1
    assert state["run"] is None and state["watermark"] is not None
