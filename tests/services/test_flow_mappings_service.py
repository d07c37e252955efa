"""Flow mappings: case-insensitive matching, unmapped counts, reassign-on-delete atomically."""

from __future__ import annotations

import pytest
from sqlalchemy import insert

from pulse_console.services import flow_mappings as flow
from pulse_console.services.flow_mappings import MappingError
from storage.db import Database
from storage.models import WorkItem
from storage.tenancy import ensure_client


def seed_items(database: Database, statuses: dict[str, int]) -> None:
    with database.session() as session:
        cid = ensure_client(session, "acme")
        rows = []
        for status, count in statuses.items():
            rows += [
                {
                    "client_id": cid,
                    "integration_id": 1,
                    "source": "jira",
                    "external_id": f"{status}-{i}",
                    "status": status,
                }
                for i in range(count)
            ]
        session.execute(insert(WorkItem), rows)


def test_unmapped_statuses_are_listed_with_counts_until_mapped(database: Database) -> None:
    seed_items(database, {"In Review": 3, "Done": 5, "Backlog": 1})
    done = flow.add_step(database, "acme", "Done", "done", actor="ada")
    flow.map_status(database, "acme", "DONE", done, actor="ada")  # case-insensitive
    unmapped = flow.load(database, "acme").unmapped
    assert [(u.status, u.issues) for u in unmapped] == [("In Review", 3), ("Backlog", 1)]
    assert len(flow.validation_problems(database, "acme")) == 2


def test_duplicate_mapping_is_refused_case_insensitively(database: Database) -> None:
    step = flow.add_step(database, "acme", "Doing", "in_progress", actor="ada")
    flow.map_status(database, "acme", "In Progress", step, actor="ada")
    with pytest.raises(MappingError, match="already mapped"):
        flow.map_status(database, "acme", "in progress", step, actor="ada")
    flow.map_status(database, "acme", "in progress", step, issue_type="Bug", actor="ada")


def test_step_needs_a_category_and_a_unique_name(database: Database) -> None:
    with pytest.raises(MappingError):
        flow.add_step(database, "acme", "Odd", "sideways", actor="ada")
    flow.add_step(database, "acme", "Doing", "in_progress", actor="ada")
    with pytest.raises(MappingError):
        flow.add_step(database, "acme", "doing", "in_progress", actor="ada")


def test_deleting_a_step_reassigns_its_mappings_in_one_transaction(database: Database) -> None:
    seed_items(database, {"Review": 4})
    review = flow.add_step(database, "acme", "Review", "in_progress", actor="ada")
    doing = flow.add_step(database, "acme", "Doing", "in_progress", actor="ada")
    flow.map_status(database, "acme", "Review", review, actor="ada")
    impact = flow.step_impact(database, "acme", review)
    assert (impact.mappings, impact.work_items) == (1, 4)
    with pytest.raises(MappingError):
        flow.delete_step(database, "acme", review, 999_999, actor="ada")
    assert len(flow.load(database, "acme").steps) == 2  # nothing changed
    assert flow.delete_step(database, "acme", review, doing, actor="ada") == 1
    data = flow.load(database, "acme")
    assert [s.name for s in data.steps] == ["Doing"]
    assert [(m.status_name, m.step) for m in data.status_mappings] == [("Review", "Doing")]
    assert data.unmapped == []


def test_issue_type_mappings_are_edited_and_deleted_only_within_their_client(
    database: Database,
) -> None:
    mapping = flow.map_issue_type(database, "acme", "Incident", "incident", actor="ada")
    with database.session() as session:
        ensure_client(session, "other")
    for change in (
        lambda: flow.issue_type_impact(database, "other", mapping),
        lambda: flow.set_issue_type_kind(database, "other", mapping, "defect", actor="eve"),
        lambda: flow.unmap_issue_type(database, "other", mapping, actor="eve"),
    ):
        with pytest.raises(MappingError, match="no longer exists"):
            change()
    flow.set_issue_type_kind(database, "acme", mapping, "defect", actor="ada")
    assert [t.kind for t in flow.load(database, "acme").issue_types] == ["defect"]
    assert flow.unmap_issue_type(database, "acme", mapping, actor="ada") == "Incident"
    assert flow.load(database, "acme").issue_types == []


def test_each_change_is_one_audit_row_carrying_what_the_operator_asked(
    database: Database,
) -> None:
    """The service tags its change and the trigger's row carries the tags: one row per
    change (never a second 'intent' row), found by the operation's name too."""
    from pulse_console.services import audit
    from pulse_console.services.audit import AuditQuery

    doing = flow.add_step(database, "acme", "Doing", "in_progress", actor="ada@host")
    done = flow.add_step(database, "acme", "Done", "done", actor="ada@host")
    mapping = flow.map_status(database, "acme", "In Review", doing, actor="ada@host")
    flow.remap_status(database, "acme", mapping, done, actor="ada@host")
    flow.unmap_status(database, "acme", mapping, actor="ada@host")

    trail = audit.search(database, "acme", AuditQuery(what="status"))
    assert [(e.action, e.operation, e.target) for e in reversed(trail)] == [
        ("status_mappings.insert", "flow.status.map", "In Review"),
        ("status_mappings.update", "flow.status.remap", "In Review"),
        ("status_mappings.delete", "flow.status.unmap", "In Review"),
    ]
    insert, remap, _ = reversed(trail)
    assert insert.details["step"] == "Doing" and insert.actor == "ada@host"
    assert (remap.before, remap.after) == ({"flow_step_id": doing}, {"flow_step_id": done})
    [found] = audit.search(database, "acme", AuditQuery(what="flow.status.remap"))
    assert found.id == remap.id
