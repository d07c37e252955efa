"""Issue 14: what each product role may do, refused by the CLI first and by PostgreSQL anyway.

A viewer reads but cannot control a job, read a secret or touch an integration; a user
controls jobs but cannot manage integrations, settings or users; an admin can do all of it.
The CLI refuses with one line and exit 2 before doing anything; the raw SQL on the same
login's connection is refused by the GRANTs and policies of migration 0013.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import ProgrammingError

from pulse_console import cli
from pulse_console.commands import database as opener
from pulse_console.services.roles import Action, allows, refusal
from storage.db import Database
from storage.testing import scratch_login

DENIED = "permission denied|row-level security"


@pytest.fixture
def as_login(tenant: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Engine]]:
    """One login per role, each a member of client acme; the CLI opens the one last chosen."""
    with tenant.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO secrets (client_id, name, ciphertext)"
                " VALUES (1, 'integration/1/1', '\\x00')"
            )
        )
        conn.execute(text("INSERT INTO jobs (client_id, name) VALUES (1, 'jira')"))
    with (
        scratch_login(tenant, "viewer", clients=(1,)) as viewer,
        scratch_login(tenant, "user", clients=(1,)) as user,
        scratch_login(tenant, "admin", clients=(1,)) as admin,
    ):
        yield {"viewer": viewer, "user": user, "admin": admin}


def _cli_as(monkeypatch: pytest.MonkeyPatch, engine: Engine) -> None:
    database = Database(engine=engine, embedded=False)
    monkeypatch.setattr(opener, "open_configured", lambda settings, upgrade_embedded=True: database)


def _refused(engine: Engine, statement: str) -> bool:
    try:
        with engine.begin() as conn:
            conn.execute(text(statement))
    except ProgrammingError as exc:
        assert re.search(DENIED, str(exc.orig)), exc
        return True
    return False


CONTROL = "UPDATE jobs SET cancel_intent = 'stop', cancel_requested = true WHERE name = 'jira'"
DEFER = (  # a run of client 1 deferred to the pool (procrastinate's queue)
    "SELECT procrastinate_defer_jobs_v1(ARRAY[ROW('acme.jira', 'pulse.run', 0, 'client:1', NULL,"
    " '{}'::jsonb, NULL)::procrastinate_job_to_defer_v1])"
)
SET_SETTING = (
    "INSERT INTO settings (client_id, key, value) VALUES (1, 'orchestrator.interval_minutes', '5')"
)
READ_SECRET = "SELECT * FROM secrets"
EDIT_INTEGRATION = "UPDATE integrations SET base_url = 'https://evil.example' WHERE id = 1"
ADD_CLIENT = "INSERT INTO clients (id, name) VALUES (7, 'other')"


def test_the_role_rule_orders_viewer_user_admin() -> None:
    assert refusal("viewer", Action.CONTROL) == "needs role user"
    assert refusal("user", Action.MANAGE_INTEGRATIONS) == "needs role admin"
    assert refusal("user", Action.CONTROL) is None
    assert all(allows("admin", action) for action in Action)
    assert allows("worker", Action.RUN_ENGINE) and not allows("worker", Action.CONTROL)
    assert not allows("user", Action.RUN_ENGINE) and not allows(None, Action.READ)


def test_a_viewer_reads_but_postgres_refuses_controls_secrets_and_integrations(
    as_login: dict[str, Engine],
) -> None:
    viewer = as_login["viewer"]
    with viewer.connect() as conn:
        assert conn.execute(text("SELECT name FROM jobs")).scalars().all() == ["jira"]
    assert _refused(viewer, CONTROL)
    assert _refused(viewer, DEFER)
    assert _refused(viewer, READ_SECRET)
    assert _refused(viewer, EDIT_INTEGRATION)
    assert _refused(viewer, ADD_CLIENT)


def test_a_user_controls_jobs_but_postgres_refuses_integrations_and_settings(
    as_login: dict[str, Engine],
) -> None:
    user = as_login["user"]
    assert not _refused(user, CONTROL)
    assert not _refused(user, DEFER)
    assert _refused(user, SET_SETTING)  # orchestrator settings are admins'
    assert _refused(user, READ_SECRET)
    assert _refused(user, EDIT_INTEGRATION)
    assert _refused(user, ADD_CLIENT)


def test_an_admin_may_do_everything(as_login: dict[str, Engine]) -> None:
    admin = as_login["admin"]
    for statement in (CONTROL, DEFER, READ_SECRET, EDIT_INTEGRATION, ADD_CLIENT):
        assert not _refused(admin, statement), statement
    with admin.begin() as conn:
        conn.execute(text("UPDATE jobs SET cancel_intent = NULL"))
    assert not _refused(admin, SET_SETTING)


@pytest.mark.parametrize(
    ("role", "argv", "needs"),
    [
        ("viewer", ["jobs", "start", "jira"], "needs role user"),
        ("viewer", ["orchestrator", "pause"], "needs role user"),
        ("user", ["orchestrator", "set", "retry.max_attempts", "5"], "needs role admin"),
        ("user", ["integration", "test", "jira"], "needs role admin"),
        ("user", ["user", "list"], "needs role admin"),
        ("viewer", ["sync", "jira"], "needs role worker"),
    ],
)
def test_the_cli_refuses_with_one_line_before_doing_anything(
    as_login: dict[str, Engine],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    role: str,
    argv: list[str],
    needs: str,
) -> None:
    _cli_as(monkeypatch, as_login[role])
    assert cli.main([*argv, "--client", "acme"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.endswith(needs), err
    assert "Traceback" not in err
    with as_login["admin"].connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM procrastinate_jobs")).scalar() == 0
        controls = "SELECT count(*) FROM audit_log WHERE action ~ '^(job|orchestrator)\\.'"
        assert conn.execute(text(controls)).scalar() == 0


def test_a_refusal_by_the_database_is_one_line_too(
    as_login: dict[str, Engine], monkeypatch: pytest.MonkeyPatch
) -> None:
    viewer = as_login["viewer"]
    try:
        with viewer.begin() as conn:
            conn.execute(text(READ_SECRET))
    except ProgrammingError as exc:
        line, code = cli._one_line(exc) or ("", 0)
    assert code == 2
    assert line.startswith("refused by the database: permission denied for table secrets")
