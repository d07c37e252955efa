"""Flow steps, status mappings and the default proposal (pulse_console.metrics.flow)."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection, text

from pulse_console.metrics import flow
from tests.metrics.seed import CLIENT, GITHUB, Seeder


def _mapping(conn: Connection) -> dict[tuple[str, str | None], tuple[str, bool]]:
    return {
        (m.status_name.lower(), m.issue_type): (m.step_name, m.active)
        for m in flow.list_status_mappings(conn, CLIENT)
    }


def test_default_proposal_maps_each_status_by_its_jira_category(
    conn: Connection, seed: Seeder
) -> None:
    seed.status("Backlog", "new")
    seed.status("In Progress", "indeterminate")
    seed.status("In Review", "indeterminate")
    seed.status("Done", "done")
    seed.status("已完成", "done")
    proposal = flow.propose_default_mappings(conn, CLIENT)
    assert proposal.steps_created == ("To Do", "In Progress", "Done")
    assert [(s.name, s.category) for s in flow.list_steps(conn, CLIENT)] == [
        ("To Do", "todo"),
        ("In Progress", "in_progress"),
        ("Done", "done"),
    ]
    assert _mapping(conn) == {
        ("backlog", None): ("To Do", True),
        ("in progress", None): ("In Progress", True),
        ("in review", None): ("In Progress", True),
        ("done", None): ("Done", True),
        ("已完成", None): ("Done", True),
    }


def test_proposal_never_overwrites_what_an_operator_made(conn: Connection, seed: Seeder) -> None:
    seed.status("In Review", "indeterminate")
    seed.status("Won't Do", "done")
    seed.status("Ready", "new")
    review = flow.add_step(conn, CLIENT, "Review", "in_progress", is_active_work=False)
    done = flow.add_step(conn, CLIENT, "Shipped", "done")
    flow.map_status(conn, CLIENT, "IN REVIEW", review)  # case differs from the status
    flow.map_status(conn, CLIENT, "won't do", done, active=False)  # switched off on purpose
    proposal = flow.propose_default_mappings(conn, CLIENT)
    # In progress and done already have active steps (Review, Shipped): only To Do is added.
    assert proposal.steps_created == ("To Do",)
    assert proposal.mappings_created == (("Ready", "To Do"),)
    assert _mapping(conn)[("in review", None)] == ("Review", True)
    assert _mapping(conn)[("won't do", None)] == ("Shipped", False)
    assert flow.propose_default_mappings(conn, CLIENT).mappings_created == ()


def test_the_same_status_name_in_two_integrations_gets_one_mapping(
    conn: Connection, seed: Seeder
) -> None:
    seed.status("Done", "done")
    seed.status("DONE", "indeterminate", integration=GITHUB)
    flow.propose_default_mappings(conn, CLIENT)
    assert _mapping(conn) == {("done", None): ("Done", True)}


def test_deleting_a_step_moves_its_mappings_in_one_transaction(
    conn: Connection, seed: Seeder
) -> None:
    seed.status("In Progress", "indeterminate")
    seed.status("Coding", "indeterminate")
    flow.propose_default_mappings(conn, CLIENT)
    steps = {s.name: s.id for s in flow.list_steps(conn, CLIENT)}
    coding = flow.add_step(conn, CLIENT, "Coding", "in_progress")
    flow.map_status(conn, CLIENT, "Coding", coding)
    flow.map_status(conn, CLIENT, "Coding", coding, issue_type="Bug")
    assert flow.delete_step(conn, CLIENT, coding, reassign_to=steps["In Progress"]) == 2
    assert _mapping(conn)[("coding", None)] == ("In Progress", True)
    assert _mapping(conn)[("coding", "Bug")] == ("In Progress", True)
    assert "Coding" not in {s.name for s in flow.list_steps(conn, CLIENT)}


@pytest.mark.parametrize("target", [None, "self", "inactive", "missing"])
def test_a_refused_delete_changes_nothing(
    conn: Connection, seed: Seeder, target: str | None
) -> None:
    seed.status("Coding", "indeterminate")
    flow.propose_default_mappings(conn, CLIENT)
    coding = flow.add_step(conn, CLIENT, "Coding", "in_progress")
    flow.map_status(conn, CLIENT, "Coding", coding)
    off = flow.add_step(conn, CLIENT, "Old", "in_progress")
    conn.execute(text("UPDATE flow_steps SET active = false WHERE id = :s"), {"s": off})
    reassign = {None: None, "self": coding, "inactive": off, "missing": 99999}[target]
    with pytest.raises(flow.FlowMappingError) as refused:
        flow.delete_step(conn, CLIENT, coding, reassign_to=reassign)
    assert refused.value.title
    assert _mapping(conn)[("coding", None)] == ("Coding", True)
    assert "Coding" in {s.name for s in flow.list_steps(conn, CLIENT)}


def test_unmapped_statuses_respect_type_specific_and_inactive_mappings(
    conn: Connection, seed: Seeder
) -> None:
    todo = flow.add_step(conn, CLIENT, "To Do", "todo")
    off = flow.add_step(conn, CLIENT, "Parked", "todo")
    flow.map_status(conn, CLIENT, "triage", todo, issue_type="bug")
    flow.map_status(conn, CLIENT, "Parked", off)
    conn.execute(text("UPDATE flow_steps SET active = false WHERE id = :s"), {"s": off})
    flow.map_status(conn, CLIENT, "Icebox", todo, active=False)
    seed.item("A-1", "2024-01-01", first="Triage", type="Bug")
    seed.item("A-2", "2024-01-01", first="TRIAGE", type="Story")
    seed.item("A-3", "2024-01-01", first="Parked")
    seed.item("A-4", "2024-01-01", first="Icebox")
    seed.item("A-5", "2024-01-01", first="Icebox", active=False)
    assert [(u.name, u.work_items) for u in flow.unmapped_statuses(conn, CLIENT)] == [
        ("Icebox", 1),
        ("Parked", 1),
        ("TRIAGE", 1),
    ]


def test_issue_type_kinds_are_validated(conn: Connection) -> None:
    flow.map_issue_type(conn, CLIENT, "Incident", "incident")
    with pytest.raises(flow.FlowMappingError):
        flow.map_issue_type(conn, CLIENT, "Bug", "bugs")
