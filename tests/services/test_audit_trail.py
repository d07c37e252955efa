"""The audit trail is kept by the database: hand-written SQL as another login is recorded
with that login and the row before/after; the login cannot be forged, and every control
(and the stop or pause a worker carries out) is credited to the login that asked for it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import Engine, text

from pulse_console.config import Settings
from pulse_console.engine.clock import FakeClock
from pulse_console.engine.orchestrator import Orchestrator
from pulse_console.services import audit
from pulse_console.services.audit import AuditQuery
from storage.audit_context import set_process_actor
from storage.db import Database
from storage.testing import scratch_login
from tests.engine.conftest import T0, add_jobs
from tests.engine.scripted import Script, registry_of


@dataclass(frozen=True)
class Change:
    table: str
    setup: str  # run as the test's superuser
    change: str  # run as the other login
    action: str
    target: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


CHANGES = [
    Change(
        "clients",
        "",
        "UPDATE clients SET display_name = 'Acme Corp' WHERE id = 1",
        "clients.update",
        "acme",
        {"display_name": None},
        {"display_name": "Acme Corp"},
    ),
    Change(
        "settings",
        "INSERT INTO settings (client_id, key, value) VALUES (1, 'retry.max_attempts', '3')",
        "UPDATE settings SET value = '5', updated_by = 'x' WHERE key = 'retry.max_attempts'",
        "settings.update",
        "retry.max_attempts",
        {"value": 3},
        {"value": 5},
    ),
    Change(
        "integrations",
        "",
        "UPDATE integrations SET base_url = 'https://new.example', last_test_ok = true",
        "integrations.update",
        "jira",
        {"base_url": "https://acme.atlassian.net"},
        {"base_url": "https://new.example"},
    ),
    Change(
        "flow_steps",
        "",
        "INSERT INTO flow_steps (client_id, name, category) VALUES (1, 'Review', 'in_progress')",
        "flow_steps.insert",
        "Review",
        None,
        {"name": "Review", "category": "in_progress", "client_id": 1},
    ),
    Change(
        "status_mappings",
        "INSERT INTO flow_steps (id, client_id, name, category) VALUES (7, 1, 'Done', 'done')",
        "INSERT INTO status_mappings (client_id, status_name, flow_step_id)"
        " VALUES (1, 'Closed', 7)",
        "status_mappings.insert",
        "Closed",
        None,
        {"status_name": "Closed", "flow_step_id": 7},
    ),
    Change(
        "issue_type_mappings",
        "INSERT INTO issue_type_mappings (client_id, issue_type, kind) VALUES (1, 'Bug', 'defect')",
        "DELETE FROM issue_type_mappings WHERE issue_type = 'Bug'",
        "issue_type_mappings.delete",
        "Bug",
        {"issue_type": "Bug", "kind": "defect"},
        None,
    ),
    Change(
        "secrets",
        "INSERT INTO secrets (client_id, name, ciphertext) VALUES (1, 'integration:1', 'gAAAold')",
        "UPDATE secrets SET ciphertext = 'gAAAnew', updated_at = now()",
        "secrets.update",
        "integration:1",
        {"value": "(hidden)"},
        {"value": "(changed)"},
    ),
]


@pytest.fixture(autouse=True)
def no_process_actor() -> Iterator[None]:
    """No console in this process named its operator (another test's command may have)."""
    set_process_actor(None)
    yield
    set_process_actor(None)


@dataclass(frozen=True)
class Login:
    name: str
    engine: Engine


# Tests that connect as another login create it (CREATE ROLE, and dropping its sessions
# afterwards, are the owner's); the change under test is still the other login's.
OWNER = pytest.mark.owner


@pytest.fixture
def other(tenant: Engine) -> Iterator[Login]:
    """An admin of client 1 (not a worker, not the owner): the author of hand-written SQL."""
    with scratch_login(tenant, "admin", clients=(1,)) as login:
        yield Login(_login_of(login), login)


def _login_of(engine: Engine) -> str:
    with engine.connect() as conn:
        return str(conn.execute(text("SELECT session_user")).scalar_one())


@OWNER
@pytest.mark.parametrize("case", CHANGES, ids=[c.table for c in CHANGES])
def test_a_hand_written_change_is_recorded_with_the_login_before_and_after(
    tenant: Engine, other: Login, case: Change
) -> None:
    if case.setup:
        with tenant.begin() as conn:
            conn.exec_driver_sql(case.setup)
    with other.engine.begin() as conn:
        conn.exec_driver_sql(case.change)
    database = Database(engine=tenant, embedded=False)
    [entry] = audit.search(database, None, AuditQuery(who=other.name))
    assert (entry.action, entry.target, entry.login) == (case.action, case.target, other.name)
    assert entry.actor == other.name  # no console said who it was: the login stands for it
    for expected, got in ((case.before, entry.before), (case.after, entry.after)):
        if expected is None:
            assert got is None
        else:
            assert got is not None and expected.items() <= got.items(), got
    if case.table != "clients":
        assert entry.client == "acme"


def test_every_audited_table_has_the_trigger_and_no_other_table_does(tenant: Engine) -> None:
    with tenant.connect() as conn:
        tables = conn.execute(
            text(
                "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
                " WHERE t.tgname = 'pulse_audit'"
                " AND c.relnamespace = current_schema()::regnamespace"
            )
        ).scalars()
        assert set(tables) == audit.AUDITED_TABLES


@OWNER
def test_a_secret_value_never_reaches_the_trail(tenant: Engine, other: Login) -> None:
    with other.engine.begin() as conn:
        conn.execute(
            text("INSERT INTO secrets (client_id, name, ciphertext) VALUES (1, 's', :c)"),
            {"c": b"TOPSECRETBYTES"},
        )
    with other.engine.begin() as conn:  # (created and removed at once would leave no row)
        conn.execute(text("DELETE FROM secrets"))
    with tenant.connect() as conn:
        trail = conn.execute(
            text("SELECT audit_log::text FROM audit_log WHERE action LIKE 'secrets.%'")
        ).scalars()
        trail = list(trail)
    assert len(trail) == 2
    assert not [row for row in trail if "TOPSECRET" in row or "544f5053" in row.lower()]


@OWNER
def test_bookkeeping_columns_alone_leave_no_row(tenant: Engine, other: Login) -> None:
    with other.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE integrations SET last_test_at = now(), last_sync_at = now()")
    assert (
        audit.search(Database(engine=tenant, embedded=False), None, AuditQuery(who=other.name))
        == []
    )


JOB = "INSERT INTO jobs (client_id, name, integration_id, status) VALUES (1, 'jira', 1, 'RUNNING')"


@OWNER
def test_the_login_column_cannot_be_forged(tenant: Engine, other: Login) -> None:
    with tenant.begin() as conn:
        conn.exec_driver_sql(JOB)
    with other.engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO audit_log (client_id, actor, action, login)"
            " VALUES (1, 'someone', 'x', 'postgres')"
        )
        conn.exec_driver_sql(
            "UPDATE jobs SET cancel_intent = 'stop', cancel_requested_login = 'postgres'"
        )
        conn.exec_driver_sql("UPDATE jobs SET cancel_requested_login = 'postgres'")
    with tenant.connect() as conn:
        assert (
            conn.execute(text("SELECT login FROM audit_log WHERE action = 'x'")).scalar()
            == other.name
        )
        assert conn.execute(text("SELECT cancel_requested_login FROM jobs")).scalar() == other.name


@OWNER
def test_an_admin_cannot_credit_another_login_with_a_request(tenant: Engine) -> None:
    """Whoever asks for a stop or pause is stamped by the database (`session_user`); a
    session naming a command id (the old worker path) is still itself."""
    with tenant.begin() as conn:
        conn.exec_driver_sql(JOB)
        conn.exec_driver_sql("UPDATE jobs SET cancel_intent = 'pause'")  # the owner asked
    with scratch_login(tenant, "admin", clients=(1,)) as admin:
        name = _login_of(admin)
        with admin.begin() as conn:
            conn.exec_driver_sql("SELECT set_config('pulse.command_id', '99', true)")
            conn.exec_driver_sql(
                "INSERT INTO audit_log (client_id, actor, action) VALUES (1, 'me', 'borrowed')"
            )
            conn.exec_driver_sql("UPDATE jobs SET cancel_intent = 'stop'")  # its own request
    with tenant.connect() as conn:
        assert conn.execute(text("SELECT login FROM audit_log WHERE actor = 'me'")).scalar() == name
        assert conn.execute(text("SELECT cancel_requested_login FROM jobs")).scalar() == name


@OWNER
def test_a_control_is_credited_to_the_login_that_asked_for_it(
    database: Database, tmp_path: Any
) -> None:
    settings = Settings(client="acme", data_dir=tmp_path / "data")
    clock = FakeClock(T0)
    scripts = {"jira_sync": Script(), "github_sync": Script()}
    add_jobs(database, "acme", list(scripts))
    with scratch_login(database.engine, "admin", clients=(1,)) as login:
        operator = _login_of(login)
        orch = Orchestrator(
            Database(engine=login, embedded=False),
            settings,
            registry_of(scripts),
            clock=clock,
            log_dir=False,
        )
        assert orch.set_active("github_sync", actor="ana@laptop").ok
        assert orch.set_setting("retry.max_attempts", 1, actor="ana@laptop").ok
        trail = audit.search(database, "acme", AuditQuery(who=operator))
    by_action = {entry.action: entry for entry in trail}
    control = by_action["job.set_active"]
    assert control.actor == "ana@laptop" and control.details["ok"]
    assert control.before == {"jira_sync": "PENDING", "github_sync": "FINISHED"}
    assert control.after == {"jira_sync": "FINISHED", "github_sync": "PENDING"}
    setting = by_action["settings.insert"]
    assert setting.after is not None and setting.after["value"] == 1
    assert {entry.login for entry in trail} == {operator}


@OWNER
def test_a_process_that_names_its_operator_is_recorded_with_it(
    tenant: Engine, other: Login
) -> None:
    set_process_actor("ops@console-host")
    other.engine.dispose()  # the connections opened from now on carry the operator
    with other.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE clients SET display_name = 'Acme Inc'")
    [entry] = audit.search(
        Database(engine=tenant, embedded=False), None, AuditQuery(who=other.name)
    )
    assert (entry.login, entry.actor) == (other.name, "ops@console-host")


@OWNER
def test_a_user_sending_a_control_is_stamped_with_its_login(tenant: Engine) -> None:
    """A pulse_user (no admin, no worker) asks for a stop and writes its audit row under
    row-level security; the database stamps both with the user's login."""
    with tenant.begin() as conn:
        conn.exec_driver_sql(JOB)
    with scratch_login(tenant, "user", clients=(1,)) as user:
        name = _login_of(user)
        with user.begin() as conn:
            conn.exec_driver_sql("UPDATE jobs SET cancel_intent = 'stop' WHERE name = 'jira'")
            conn.exec_driver_sql(
                "INSERT INTO audit_log (client_id, actor, action, target)"
                " VALUES (1, 'me', 'job.stop', 'jira')"
            )
    with tenant.connect() as conn:
        assert conn.execute(text("SELECT cancel_requested_login FROM jobs")).scalar() == name
        assert conn.execute(text("SELECT login FROM audit_log WHERE actor = 'me'")).scalar() == name


def test_a_removed_clients_rows_are_audited_with_no_client(database: Database) -> None:
    """As the suite's login (an admin of the clients it made, not the owner): row-level
    security would refuse that login a row of no client, but the trail's definer trigger
    writes the removal's rows anyway, with the login that removed the client."""
    from pulse_console.services import clients

    clients.add_client(database, "acme", actor="ops@host")
    with database.engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO flow_steps (client_id, name, category)"
            " SELECT id, 'Review', 'in_progress' FROM clients WHERE name = 'acme'"
        )
    clients.remove_client(database, "acme", actor="ops@host")
    login = _login_of(database.engine)
    trail = audit.search(database, None, AuditQuery(who=login, what="delete"))
    assert {(e.action, e.target, e.client) for e in trail} == {
        ("clients.delete", "acme", None),
        ("flow_steps.delete", "Review", None),
    }
    assert all(e.login == login and e.actor == "ops@host" for e in trail)
