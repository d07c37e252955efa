"""The plan tables' contract (issue 20): names analysts and acceptance checks read."""

from __future__ import annotations

from sqlalchemy import Engine, inspect

from storage import migrate

CONTRACT_COLUMNS = {
    "releases": {
        "client_id", "integration_id", "source", "external_id", "key", "name", "project_key",
        "status", "start_date", "release_date", "released", "created_at", "updated_at",
        "active",
    },
    "work_item_releases": {"client_id", "work_item_id", "release_id"},
    "goals": {
        "client_id", "integration_id", "source", "kind", "external_id", "key", "name",
        "project_key", "status", "progress", "start_date", "end_date", "active",
    },
    "work_item_goals": {"client_id", "work_item_id", "goal_id"},
}  # fmt: skip


def test_migrations_create_the_release_and_goal_tables_with_their_contract_columns(
    empty_engine: Engine,
) -> None:
    migrate.upgrade(empty_engine)
    inspector = inspect(empty_engine)
    for table, wanted in CONTRACT_COLUMNS.items():
        columns = {c["name"] for c in inspector.get_columns(table)}
        assert wanted <= columns, (table, wanted - columns)
    released = next(c for c in inspector.get_columns("releases") if c["name"] == "released")
    assert str(released["type"]) == "BOOLEAN"
    keys = {tuple(u["column_names"]) for u in inspector.get_unique_constraints("goals")}
    assert ("client_id", "integration_id", "external_id") in keys
