"""Issue 14: row-level security must not cost a login the parallel plans the owner gets.
The policies' functions are PARALLEL RESTRICTED (migration 0026): were one of them PARALLEL
UNSAFE (the default of CREATE FUNCTION), every query of a login on a policed table would be
planned without parallel workers."""

from __future__ import annotations

from sqlalchemy import Engine, text

from storage.testing import scratch_login

# Parallel plans made free, so that even an empty table gets one where it is allowed.
_FREE_PARALLELISM = (
    "SET parallel_setup_cost = 0",
    "SET parallel_tuple_cost = 0",
    "SET min_parallel_table_scan_size = 0",
    "SET max_parallel_workers_per_gather = 2",
    "SET enable_indexscan = off",
    "SET enable_indexonlyscan = off",
    "SET enable_bitmapscan = off",
)


def _plan(engine: Engine) -> str:
    with engine.connect() as conn:
        for setting in _FREE_PARALLELISM:
            conn.exec_driver_sql(setting)
        rows = conn.exec_driver_sql(
            "EXPLAIN (COSTS OFF) SELECT count(*) FROM work_items WHERE client_id = 1"
        )
        return "\n".join(row[0] for row in rows)


def test_a_login_under_row_level_security_gets_a_parallel_plan(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO clients (id, name) VALUES (1, 'acme')"))
    assert "Gather" in _plan(engine)  # the owner's
    with scratch_login(engine, "viewer", clients=(1,)) as login:
        plan = _plan(login)
    assert "client_id = ANY" in plan  # the policy applies ...
    assert "Gather" in plan  # ... and the plan is parallel all the same


def test_no_function_a_policy_calls_is_parallel_unsafe(engine: Engine) -> None:
    with engine.connect() as conn:
        called = conn.execute(
            text(
                "SELECT DISTINCT p.proname, p.proparallel FROM pg_policy pol"
                " JOIN pg_class c ON c.oid = pol.polrelid"
                " JOIN pg_depend d ON d.classid = 'pg_policy'::regclass AND d.objid = pol.oid"
                " JOIN pg_proc p ON d.refclassid = 'pg_proc'::regclass AND p.oid = d.refobjid"
                " WHERE c.relnamespace = (SELECT oid FROM pg_namespace"
                "                         WHERE nspname = current_schema())"
            )
        ).all()
    assert {name for name, _ in called} >= {"pulse_visible_client_ids", "pulse_acting_role"}
    assert [name for name, parallel in called if parallel == "u"] == []
