from __future__ import annotations

import json
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text

from storage import migrate
from storage.models import Base

TRGM_INDEX = "ix_log_entries_message_trgm"

CONTRACT_TABLES = {
    "clients", "integrations", "jobs", "job_runs", "settings", "console_users", "audit_log",
    "projects", "statuses", "issue_types", "work_items", "work_item_transitions",
    "work_item_links", "repositories", "pull_requests", "pr_commits", "pr_reviews",
    "pr_comments", "deployments", "flow_steps", "status_mappings", "issue_type_mappings",
    "log_entries",
}  # fmt: skip

CONTRACT_COLUMNS = {
    "work_items": {
        "id", "client_id", "integration_id", "source", "external_id", "key", "project_key",
        "type", "status", "priority", "summary", "assignee", "created_at", "updated_at",
        "resolved_at", "custom_fields", "raw", "active",
    },
    "work_item_transitions": {
        "work_item_id", "external_id", "field", "from_value", "to_value", "author", "changed_at",
    },
    "work_item_links": {
        "work_item_id", "kind", "url", "repository", "pull_request_number", "evidence",
    },
    "repositories": {
        "id", "integration_id", "external_id", "full_name", "url", "discovered_by", "active",
    },
    "pull_requests": {
        "id", "repository_id", "external_id", "number", "title", "state", "author",
        "base_branch", "head_branch", "created_at", "updated_at", "merged_at", "closed_at",
        "merge_commit_sha", "additions", "deletions", "changed_files", "active",
    },
    "pr_commits": {"pull_request_id", "sha", "author", "authored_at", "committed_at", "message"},
    "pr_reviews": {"pull_request_id", "external_id", "author", "state", "submitted_at"},
    "pr_comments": {"pull_request_id", "external_id", "author", "kind", "created_at"},
    "deployments": {
        "id", "repository_id", "external_id", "environment", "status", "sha", "created_at",
        "finished_at",
    },
    "log_entries": {"ts", "level", "job", "run_id", "logger", "message", "extra"},
}  # fmt: skip


def test_upgrade_creates_the_contract_tables_and_downgrade_removes_them(
    empty_engine: Engine,
) -> None:
    assert migrate.status(empty_engine).current is None
    migrate.upgrade(empty_engine)
    tables = set(inspect(empty_engine).get_table_names())
    assert tables >= CONTRACT_TABLES
    assert migrate.status(empty_engine).up_to_date

    migrate.downgrade(empty_engine, "base")
    assert set(inspect(empty_engine).get_table_names()) <= {"alembic_version"}
    migrate.upgrade(empty_engine)
    assert migrate.status(empty_engine).up_to_date


def test_contract_columns_are_present_with_their_names(engine: Engine) -> None:
    inspector = inspect(engine)
    for table, expected in CONTRACT_COLUMNS.items():
        columns = {c["name"] for c in inspector.get_columns(table)}
        assert expected <= columns, f"{table} lacks {expected - columns}"


def test_every_table_carries_client_id(engine: Engine) -> None:
    """Except the bookkeeping of the pool itself: its workers serve many clients, and
    procrastinate's tables other than its tasks (an event or a periodic defer belongs to
    its task's client; a procrastinate worker row is only a heartbeat)."""
    inspector = inspect(engine)
    for table in inspector.get_table_names():
        if table in {"alembic_version", "clients", "pool_workers"}:
            continue
        if table.startswith("procrastinate_") and table != "procrastinate_jobs":
            continue
        assert "client_id" in {c["name"] for c in inspector.get_columns(table)}, table


def test_models_and_migrations_agree(engine: Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
        has_trgm = conn.execute(text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'"))
        if has_trgm.first() is None:
            # Migration 0004 skips the index where the server lacks pg_trgm (the embedded one).
            diff = [d for d in diff if d[:1] != ("add_index",) or d[1].name != TRGM_INDEX]
        # procrastinate's schema is its own (installed from its package by 0019)
        diff = [d for d in diff if not _procrastinate(d)]
        assert diff == []


def _procrastinate(difference: Any) -> bool:
    found = difference[1] if isinstance(difference, tuple) else difference[0][1]
    table = getattr(found, "table", None)
    names = (getattr(found, "name", ""), getattr(table, "name", ""))
    return any(str(name).startswith("procrastinate_") for name in names)


def test_external_database_behind_is_refused_with_a_clear_message(empty_engine: Engine) -> None:
    with pytest.raises(migrate.SchemaBehind, match="pulse-console db upgrade"):
        migrate.require_current(empty_engine)
    migrate.upgrade(empty_engine)
    migrate.require_current(empty_engine)


def test_reset_leaves_an_empty_schema_at_head(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO clients (name) VALUES ('acme')"))
    migrate.reset_database(engine)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM clients")).scalar_one() == 0
    assert migrate.status(engine).up_to_date


def at_revision(engine: Engine, revision: str, *statements: str) -> None:
    """Migrate an empty schema up to `revision` and run `statements` there (rows as that
    revision's code wrote them), in one transaction."""
    migrate.upgrade(engine, revision)
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))


def test_upgrade_renames_stored_secrets_to_ids_and_gives_them_their_client(
    empty_engine: Engine,
) -> None:
    at_revision(
        empty_engine,
        "0006",
        "INSERT INTO clients (id, name) VALUES (1, 'a'), (2, 'a:gh'), (3, 'b')",
        "INSERT INTO integrations (id, client_id, name, type, base_url, secret_ref) VALUES"
        " (10, 1, 'gh:x', 'github', 'u', 'integration:a:gh:x'),"
        " (11, 2, 'x', 'github', 'u', 'integration:a:gh:x'),"
        " (12, 3, 'jira', 'jira', 'u', 'integration:b:jira')",
        "INSERT INTO secrets (name, ciphertext) VALUES"
        " ('integration:a:gh:x', 'x'), ('integration:b:jira', 'j')",
    )
    migrate.upgrade(empty_engine)
    with empty_engine.connect() as conn:
        secrets = conn.execute(text("SELECT name, client_id FROM secrets")).all()
        refs = conn.execute(text("SELECT id, secret_ref FROM integrations ORDER BY id")).all()
    # The colliding row cannot be attributed to either client: it is dropped, not shared.
    assert secrets == [("integration/3/12", 3)]
    assert refs == [(10, "integration/1/10"), (11, "integration/2/11"), (12, "integration/3/12")]
    migrate.downgrade(empty_engine, "0006")
    with empty_engine.connect() as conn:
        assert conn.execute(text("SELECT name, client_id FROM secrets")).all() == [
            ("integration:b:jira", None)
        ]


def test_upgrade_names_each_per_type_job_after_its_integration_with_its_runs_and_logs(
    empty_engine: Engine,
) -> None:
    at_revision(
        empty_engine,
        "0011",
        "INSERT INTO clients (id, name) VALUES (1, 'a')",
        "INSERT INTO integrations (id, client_id, name, type, base_url) VALUES"
        " (10, 1, 'jira-one', 'jira', 'u'), (11, 1, 'jira-two', 'jira', 'u'),"
        " (12, 1, 'gh', 'github', 'u')",
        "INSERT INTO jobs (id, client_id, name, integration_id) VALUES"
        " (1, 1, 'jira_sync', 10), (2, 1, 'github_sync', NULL)",
        "INSERT INTO job_runs (client_id, job_id, trigger, status) VALUES"
        " (1, 1, 'schedule', 'FINISHED')",
        "INSERT INTO log_entries (client_id, ts, level, job, logger, message) VALUES"
        " (1, now(), 'INFO', 'jira_sync', 'l', 'm'), (1, now(), 'INFO', 'github_sync',"
        " 'l', 'm')",
    )
    jobs = "SELECT id, name, integration_id FROM jobs ORDER BY id"
    logs = "SELECT job FROM log_entries ORDER BY id"
    migrate.upgrade(empty_engine)
    with empty_engine.connect() as conn:
        assert conn.execute(text(jobs)).all() == [(1, "jira-one", 10), (2, "gh", 12)]
        assert conn.execute(text(logs)).scalars().all() == ["jira-one", "gh"]
        conn.execute(
            text(
                "INSERT INTO jobs (id, client_id, name, integration_id)"
                " VALUES (3, 1, 'jira-two', 11)"
            )
        )
        conn.commit()
    migrate.downgrade(empty_engine, "0011")
    with empty_engine.connect() as conn:
        # jira-two's job cannot exist before 0010: only each type's first job is kept
        assert conn.execute(text(jobs)).all() == [(1, "jira_sync", 10), (2, "github_sync", 12)]
        assert conn.execute(text(logs)).scalars().all() == ["jira_sync", "github_sync"]
        assert conn.execute(text("SELECT job_id FROM job_runs")).scalars().all() == [1]


def test_upgrade_gives_each_task_its_client_and_drops_tasks_of_no_client(
    empty_engine: Engine,
) -> None:
    at_revision(
        empty_engine,
        "0022",
        "INSERT INTO clients (id, name) VALUES (1, 'a')",
        "INSERT INTO procrastinate_jobs (id, queue_name, task_name, lock) VALUES"
        " (1, 'a.jira', 'pulse.run', 'client:1'), (2, 'x', 'pulse.run', 'client:99'),"
        " (3, 'x', 'other', NULL), (4, 'x', 'other', 'client:1x')",
    )
    migrate.upgrade(empty_engine)
    tasks = "SELECT id, client_id FROM procrastinate_jobs ORDER BY id"
    with empty_engine.connect() as conn:
        assert conn.execute(text(tasks)).all() == [(1, 1)]
        events = conn.execute(text("SELECT job_id FROM procrastinate_events ORDER BY id"))
        assert events.scalars().all() == [1]  # the removed tasks' events went with them
    migrate.downgrade(empty_engine, "0022")
    with empty_engine.connect() as conn:
        assert conn.execute(text("SELECT id, lock FROM procrastinate_jobs")).all() == [
            (1, "client:1")
        ]


def _compression(conn: Any, table: str, column: str) -> str:
    return str(
        conn.execute(
            text(
                "SELECT attcompression FROM pg_attribute"
                " WHERE attrelid = CAST(:table AS regclass) AND attname = :column"
            ),
            {"table": table, "column": column},
        ).scalar_one()
    )


def test_large_json_columns_compress_new_values_with_lz4_and_downgrade_restores_the_default(
    empty_engine: Engine,
) -> None:
    with empty_engine.connect() as conn:
        has_lz4 = conn.execute(
            text(
                "SELECT 'lz4' = ANY(enumvals) FROM pg_settings"
                " WHERE name = 'default_toast_compression'"
            )
        ).scalar_one()
    if not has_lz4:
        pytest.skip("this PostgreSQL server was built without lz4")
    migrate.upgrade(empty_engine, "0027")
    with empty_engine.connect() as conn:
        assert _compression(conn, "work_items", "raw") == ""
    migrate.upgrade(empty_engine)
    payload = {"fields": {f"customfield_{n}": "x" * 40 + str(n) for n in range(200)}}
    with empty_engine.begin() as conn:
        for table, column in (("work_items", "raw"), ("work_items", "custom_fields")):
            assert _compression(conn, table, column) == "l"
        assert _compression(conn, "goals", "raw") == "l"
        conn.execute(text("SET LOCAL default_toast_compression = pglz"))
        conn.execute(text("INSERT INTO clients (name) VALUES ('c')"))
        client = conn.execute(text("SELECT id FROM clients")).scalar_one()
        conn.execute(
            text(
                "INSERT INTO integrations (client_id, name, type, base_url, config)"
                " VALUES (:c, 'j', 'jira', 'https://x', '{}')"
            ),
            {"c": client},
        )
        integration = conn.execute(text("SELECT id FROM integrations")).scalar_one()
        conn.execute(
            text(
                "INSERT INTO work_items (client_id, integration_id, source, external_id, key,"
                " project_key, type, status, raw, custom_fields, active)"
                " VALUES (:c, :i, 'jira', '1', 'A-1', 'A', 'Task', 'Open',"
                " CAST(:raw AS jsonb), CAST(:raw AS jsonb), true)"
            ),
            {"c": client, "i": integration, "raw": json.dumps(payload)},
        )
        # The column's method wins over the session's default for new values.
        methods = conn.execute(
            text(
                "SELECT pg_column_compression(raw), pg_column_compression(custom_fields)"
                " FROM work_items"
            )
        ).one()
        assert tuple(methods) == ("lz4", "lz4")
        conn.execute(text("DELETE FROM work_items"))
    migrate.downgrade(empty_engine, "0027")
    with empty_engine.connect() as conn:
        assert _compression(conn, "work_items", "raw") == ""
        assert _compression(conn, "source_users", "raw") == ""
