"""The first Jira sync proposes the default flow mapping; later syncs leave it to the operator."""

from __future__ import annotations

from sqlalchemy import text

from connectors.sandbox.org import Org
from pulse_console.services import flow_mappings as flow
from storage.db import Database
from tests.pipelines.harness import Sandbox, add_integration, sync


def _client_id(database: Database) -> int:
    with database.engine.connect() as conn:
        return int(conn.execute(text("SELECT id FROM clients WHERE name = 'acme'")).scalar_one())


def test_first_sandbox_sync_yields_flow_steps_and_a_mapping_for_every_status(
    database: Database,
) -> None:
    sandbox = Sandbox(Org(7, "tiny"))
    secrets = add_integration(database)

    result = sync(sandbox, database, secrets)

    board = flow.load(database, "acme")
    steps = [(s.name, s.category) for s in board.steps]
    mappings = {m.status_name.lower(): m.step for m in board.status_mappings}
    with database.engine.connect() as conn:
        statuses = conn.execute(text("SELECT name, category FROM statuses")).all()
    unmapped = board.unmapped
    assert steps == [("To Do", "todo"), ("In Progress", "in_progress"), ("Done", "done")]
    step_of = {"new": "To Do", "indeterminate": "In Progress", "done": "Done"}
    assert statuses and all(mappings[name.lower()] == step_of[cat] for name, cat in statuses)
    assert unmapped == []  # every status a synced work item is in has a step
    assert result.stats["flow_proposal"] == {
        "steps_created": 3,
        "mappings_created": len(mappings),
    }


def test_a_mapping_the_operator_removed_is_not_proposed_again_by_later_syncs(
    database: Database,
) -> None:
    sandbox = Sandbox(Org(7, "tiny"))
    secrets = add_integration(database)
    sync(sandbox, database, secrets)
    cid = _client_id(database)
    with database.engine.begin() as conn:
        removed = flow.load(database, "acme").status_mappings[0].status_name
        conn.execute(
            text("DELETE FROM status_mappings WHERE client_id = :c AND status_name = :s"),
            {"c": cid, "s": removed},
        )

    again = sync(sandbox, database, secrets)
    full = sync(sandbox, database, secrets, full=True)

    names = {m.status_name for m in flow.load(database, "acme").status_mappings}
    assert removed not in names
    assert again.stats["flow_proposal"] == {} and full.stats["flow_proposal"] == {}
