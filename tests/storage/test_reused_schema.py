"""The test fixture's schema reuse: the next user gets no rows of the last one, sequences from
1, and a fresh schema whenever the last user changed the definition."""

from __future__ import annotations

from sqlalchemy import text

from storage.testing import reused_schema, search_path_of, seed_tenant


def _schema_exists(url: str, schema: str) -> bool:
    with reused_schema(url) as probe, probe.connect() as conn:
        found = conn.execute(
            text("SELECT count(*) FROM pg_namespace WHERE nspname = :s"), {"s": schema}
        ).scalar_one()
    return bool(found)


def test_the_next_user_gets_the_same_schema_emptied_with_sequences_restarted(pg_url: str) -> None:
    with reused_schema(pg_url) as first:
        seed_tenant(first)
        with first.begin() as conn:
            conn.execute(text("INSERT INTO clients (id, name) VALUES (2, 'second')"))
            conn.execute(text("SELECT nextval('clients_id_seq')"))
        used = search_path_of(first)
    with reused_schema(pg_url) as second:
        assert search_path_of(second) == used
        with second.begin() as conn:
            assert conn.execute(text("SELECT count(*) FROM clients")).scalar_one() == 0
            assert conn.execute(text("SELECT count(*) FROM integrations")).scalar_one() == 0
            new_id = conn.execute(
                text("INSERT INTO clients (name) VALUES ('x') RETURNING id")
            ).scalar_one()
            assert new_id == 1
            stamp = conn.execute(text("SELECT count(*) FROM alembic_version")).scalar_one()
            assert stamp == 1  # the migration stamp is kept


def test_a_schema_whose_definition_changed_is_dropped_not_reused(pg_url: str) -> None:
    with reused_schema(pg_url) as changed:
        with changed.begin() as conn:
            conn.execute(text("ALTER TABLE clients ADD COLUMN extra int"))
        used = search_path_of(changed)
    with reused_schema(pg_url) as after:
        assert search_path_of(after) != used
    assert not _schema_exists(pg_url, used)


def test_row_level_security_turned_off_is_a_changed_definition(pg_url: str) -> None:
    with reused_schema(pg_url) as changed:
        with changed.begin() as conn:
            conn.execute(text("ALTER TABLE jobs NO FORCE ROW LEVEL SECURITY"))
        used = search_path_of(changed)
    with reused_schema(pg_url) as after:
        assert search_path_of(after) != used
