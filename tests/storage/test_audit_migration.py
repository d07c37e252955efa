"""Migration 0014 (the audit trail in the database): upgrade keeps existing rows and starts
recording; downgrade removes the triggers, functions and columns and stops recording."""

from __future__ import annotations

from sqlalchemy import Connection, Engine, inspect, text

from storage import migrate

FUNCTIONS = (
    "pulse_audit_change",
    "pulse_stamp_requested_login",
    "pulse_stamp_audit_login",
    "pulse_acting_login",
    "pulse_session_is_worker",
)


def _ours(conn: Connection, sql: str) -> list[str]:
    return list(conn.execute(text(sql)).scalars())


def functions(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return set(
            _ours(
                conn,
                "SELECT proname FROM pg_proc WHERE pronamespace = current_schema()::regnamespace"
                " AND proname LIKE 'pulse\\_%'",
            )
        )


def triggers(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return set(
            _ours(
                conn,
                "SELECT c.relname || '.' || t.tgname FROM pg_trigger t"
                " JOIN pg_class c ON c.oid = t.tgrelid"
                " WHERE NOT t.tgisinternal AND c.relnamespace = current_schema()::regnamespace",
            )
        )


def columns(engine: Engine, table: str) -> set[str]:
    return {c["name"] for c in inspect(engine).get_columns(table)}


def test_upgrade_keeps_rows_and_starts_recording_then_downgrade_stops(
    empty_engine: Engine,
) -> None:
    migrate.upgrade(empty_engine, "0008")
    with empty_engine.begin() as conn:
        conn.execute(text("INSERT INTO clients (id, name) VALUES (1, 'acme')"))
        conn.execute(
            text("INSERT INTO audit_log (client_id, actor, action) VALUES (1, 'ada@host', 'old')")
        )
        conn.execute(
            text(
                "INSERT INTO control_commands (client_id, action, requested_by)"
                " VALUES (1, 'start', 'ada@host')"
            )
        )

    migrate.upgrade(empty_engine, "0014")
    assert {"login", "before", "after"} <= columns(empty_engine, "audit_log")
    assert "requested_login" in columns(empty_engine, "control_commands")
    assert set(FUNCTIONS) <= functions(empty_engine)
    assert len([t for t in triggers(empty_engine) if t.endswith(".pulse_audit")]) == 7
    with empty_engine.begin() as conn:
        old = conn.execute(text("SELECT actor, login FROM audit_log")).one()
        assert tuple(old) == ("ada@host", None)  # history is kept as it was
        user = conn.execute(text("SELECT session_user")).scalar_one()
        # a command queued before the upgrade is credited to whoever ran the migration
        assert conn.execute(text("SELECT requested_login FROM control_commands")).scalar() == user
        conn.execute(text("UPDATE clients SET display_name = 'Acme' WHERE id = 1"))
        recorded = conn.execute(
            text("SELECT login, before, after FROM audit_log WHERE action = 'clients.update'")
        ).one()
        assert recorded.login == user and recorded.after == {"display_name": "Acme"}

    migrate.downgrade(empty_engine, "0008")
    assert not {"login", "before", "after"} & columns(empty_engine, "audit_log")
    assert "requested_login" not in columns(empty_engine, "control_commands")
    assert not functions(empty_engine) & set(FUNCTIONS)
    assert not triggers(empty_engine)
    with empty_engine.begin() as conn:
        conn.execute(text("UPDATE clients SET display_name = 'Acme 2' WHERE id = 1"))
        assert conn.execute(text("SELECT count(*) FROM audit_log")).scalar_one() == 2

    migrate.upgrade(empty_engine)
    assert migrate.status(empty_engine).up_to_date
