"""Flow steps and status mappings as the metrics see them: the default proposal
(`storage.flow_defaults`), the console's edits (`services.flow_mappings`) and which statuses
count as unmapped (`metrics.mapping_rules`)."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection, text

from pulse_console.metrics.mapping_rules import unmapped_statuses
from pulse_console.services import flow_mappings as flow
from storage.flow_defaults import propose_default_mappings
from tests.metrics.seed import ACTOR, CLIENT, CLIENT_NAME, GITHUB, Seeder


def _mapping(conn: Connection) -> dict[tuple[str, str | None], tuple[str, bool]]:
    rows = conn.execute(
        text(
            "SELECT m.status_name, m.issue_type, f.name, m.active FROM status_mappings m"
            " JOIN flow_steps f ON f.id = m.flow_step_id WHERE m.client_id = :c"
        ),
        {"c": CLIENT},
    ).all()
    return {(status.lower(), kind): (step, active) for status, kind, step, active in rows}


def _steps(seed: Seeder) -> list[tuple[str, str]]:
    return [(s.name, s.category) for s in flow.load(seed.database, CLIENT_NAME).steps]


def _their_step(conn: Connection, seed: Seeder) -> int:
    """A step of another client, `globex` (explicit id: the tenant seed inserts client 1 so)."""
    conn.execute(text("INSERT INTO clients (id, name, display_name) VALUES (2, 'globex', 'G')"))
    return flow.add_step(seed.database, "globex", "Theirs", "in_progress", actor=ACTOR)


def _switch_off(conn: Connection, table: str, row_id: int) -> None:
    conn.execute(text(f"UPDATE {table} SET active = false WHERE id = :i"), {"i": row_id})


def test_default_proposal_maps_each_status_by_its_jira_category(
    conn: Connection, seed: Seeder
) -> None:
    seed.status("Backlog", "new")
    seed.status("In Progress", "indeterminate")
    seed.status("In Review", "indeterminate")
    seed.status("Done", "done")
    seed.status("已完成", "done")
    proposal = propose_default_mappings(conn, CLIENT)
    assert proposal.steps_created == ("To Do", "In Progress", "Done")
    assert _steps(seed) == [
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
    review = seed.step("Review", "in_progress", is_active_work=False)
    done = seed.step("Shipped", "done")
    seed.map_status("IN REVIEW", review)  # case differs from the status
    _switch_off(conn, "status_mappings", seed.map_status("won't do", done))  # on purpose
    proposal = propose_default_mappings(conn, CLIENT)
    # In progress and done already have active steps (Review, Shipped): only To Do is added.
    assert proposal.steps_created == ("To Do",)
    assert proposal.mappings_created == (("Ready", "To Do"),)
    assert _mapping(conn)[("in review", None)] == ("Review", True)
    assert _mapping(conn)[("won't do", None)] == ("Shipped", False)
    assert propose_default_mappings(conn, CLIENT).mappings_created == ()


def test_the_same_status_name_in_two_integrations_gets_one_mapping(
    conn: Connection, seed: Seeder
) -> None:
    seed.status("Done", "done")
    seed.status("DONE", "indeterminate", integration=GITHUB)
    propose_default_mappings(conn, CLIENT)
    assert _mapping(conn) == {("done", None): ("Done", True)}


def test_deleting_a_step_moves_its_mappings_in_one_transaction(
    conn: Connection, seed: Seeder
) -> None:
    seed.status("In Progress", "indeterminate")
    propose_default_mappings(conn, CLIENT)
    steps = {s.name: s.id for s in flow.load(seed.database, CLIENT_NAME).steps}
    coding = seed.step("Coding", "in_progress")
    seed.map_status("Coding", coding)
    seed.map_status("Coding", coding, issue_type="Bug")
    moved = flow.delete_step(seed.database, CLIENT_NAME, coding, steps["In Progress"], actor=ACTOR)
    assert moved == 2
    assert _mapping(conn)[("coding", None)] == ("In Progress", True)
    assert _mapping(conn)[("coding", "Bug")] == ("In Progress", True)
    assert "Coding" not in {name for name, _ in _steps(seed)}


@pytest.mark.parametrize("target", ["self", "inactive", "missing", "other client's"])
def test_a_refused_delete_changes_nothing(conn: Connection, seed: Seeder, target: str) -> None:
    propose_default_mappings(conn, CLIENT)
    coding = seed.step("Coding", "in_progress")
    seed.map_status("Coding", coding)
    off = seed.step("Old", "in_progress")
    _switch_off(conn, "flow_steps", off)
    theirs = _their_step(conn, seed)
    reassign = {"self": coding, "inactive": off, "missing": 99999, "other client's": theirs}
    with pytest.raises(flow.MappingError) as refused:
        flow.delete_step(seed.database, CLIENT_NAME, coding, reassign[target], actor=ACTOR)
    assert str(refused.value)
    assert _mapping(conn)[("coding", None)] == ("Coding", True)
    assert "Coding" in {name for name, _ in _steps(seed)}


def test_another_clients_step_cannot_be_deleted_or_mapped_to(
    conn: Connection, seed: Seeder
) -> None:
    theirs = _their_step(conn, seed)
    with pytest.raises(flow.MappingError):
        flow.delete_step(seed.database, CLIENT_NAME, theirs, None, actor=ACTOR)
    with pytest.raises(flow.MappingError):
        seed.map_status("Coding", theirs)
    assert [s.name for s in flow.load(seed.database, "globex").steps] == ["Theirs"]


def test_a_status_cannot_be_mapped_to_a_switched_off_step(conn: Connection, seed: Seeder) -> None:
    off = seed.step("Parked", "todo")
    _switch_off(conn, "flow_steps", off)
    with pytest.raises(flow.MappingError, match="switched off"):
        seed.map_status("Icebox", off)


def test_unmapped_statuses_respect_type_specific_and_inactive_mappings(
    conn: Connection, seed: Seeder
) -> None:
    todo = seed.step("To Do", "todo")
    off = seed.step("Parked", "todo")
    seed.map_status("triage", todo, issue_type="bug")
    seed.map_status("Parked", off)
    _switch_off(conn, "flow_steps", off)
    _switch_off(conn, "status_mappings", seed.map_status("Icebox", todo))
    seed.item("A-1", "2024-01-01", first="Triage", type="Bug")
    seed.item("A-2", "2024-01-01", first="TRIAGE", type="Story")
    seed.item("A-3", "2024-01-01", first="Parked")
    seed.item("A-4", "2024-01-01", first="Icebox")
    seed.item("A-5", "2024-01-01", first="Icebox", active=False)
    expected = [("Icebox", 1), ("Parked", 1), ("TRIAGE", 1)]
    assert [(u.status, u.issues) for u in unmapped_statuses(conn, CLIENT)] == expected
    # the console lists exactly what the metrics leave unmapped
    assert [
        (u.status, u.issues) for u in flow.load(seed.database, CLIENT_NAME).unmapped
    ] == expected


def test_issue_type_kinds_are_validated(seed: Seeder) -> None:
    seed.map_issue_type("Incident", "incident")
    with pytest.raises(flow.MappingError):
        seed.map_issue_type("Bug", "bugs")
