"""Issue 14: `pulse-console user add|list|set-role|grant|revoke|remove` on real logins."""

from __future__ import annotations

import base64
import io
import json
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import ProgrammingError

from pulse_console import cli
from pulse_console.commands import database as opener
from storage.db import Database
from storage.identity import whoami
from storage.logins import scram_verifier
from storage.testing import drop_login, scratch_login


@pytest.fixture
def name(tenant: Engine) -> Iterator[str]:
    login = f"t_{uuid.uuid4().hex[:10]}_op"
    yield login
    drop_login(tenant, login)


def _wire(monkeypatch: pytest.MonkeyPatch, engine: Engine) -> None:
    database = Database(engine=engine, embedded=False)
    monkeypatch.setattr(opener, "open_configured", lambda settings, upgrade_embedded=True: database)


def _listed(capsys: pytest.CaptureFixture[str], login: str) -> dict[str, object] | None:
    capsys.readouterr()
    assert cli.main(["user", "list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    return next((row for row in rows if row["name"] == login), None)


def test_add_grant_set_role_revoke_and_remove_a_login(
    tenant: Engine,
    name: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _wire(monkeypatch, tenant)
    monkeypatch.setattr("sys.stdin", io.StringIO("s3cret-pass\n"))
    argv = ["user", "add", name, "--role", "viewer", "--client", "acme", "--password-stdin"]
    assert cli.main(argv) == 0
    assert _listed(capsys, name) == {
        "name": name,
        "role": "viewer",
        "all_clients": False,
        "clients": ["acme"],
        "can_login": True,
    }
    with tenant.connect() as conn:
        stored = conn.execute(
            text("SELECT rolpassword FROM pg_authid WHERE rolname = :n"), {"n": name}
        ).scalar_one()
    assert stored.startswith("SCRAM-SHA-256$4096:")

    assert cli.main(["user", "set-role", name, "user"]) == 0
    listed = _listed(capsys, name)
    assert listed is not None and listed["role"] == "user"
    assert cli.main(["user", "revoke", name, "--client", "acme"]) == 0
    listed = _listed(capsys, name)
    assert listed is not None and listed["clients"] == []
    assert cli.main(["user", "grant", name, "--client", "acme"]) == 0

    assert cli.main(["user", "remove", name]) == 2  # needs --yes
    assert cli.main(["user", "remove", name, "--yes"]) == 0
    assert _listed(capsys, name) is None


def test_the_new_login_has_exactly_its_role_and_clients(tenant: Engine) -> None:
    with scratch_login(tenant, "user", clients=(1,)) as login:
        me = whoami(login)
    assert (me.role, me.owner, me.all_clients, me.clients) == ("user", False, False, ("acme",))


def test_bad_requests_are_one_line_and_exit_2(
    tenant: Engine,
    name: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _wire(monkeypatch, tenant)
    cases = [
        (["user", "add", name, "--role", "viewer", "--client", "nope"], "no client 'nope'"),
        (["user", "add", "pulse_admin", "--role", "viewer"], "reserved"),
        (["user", "add", "Bad Name", "--role", "viewer"], "not a login name"),
        (["user", "set-role", name, "admin"], "there is no login"),
        (["user", "revoke", "postgres", "--client", "acme"], "not a member"),
    ]
    for argv, words in cases:
        capsys.readouterr()
        assert cli.main(argv) == 2, argv
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and words in err, (argv, err)


def test_an_admin_login_manages_logins_of_its_clients(
    tenant: Engine, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with scratch_login(tenant, "admin", clients=(1,)) as admin:
        _wire(monkeypatch, admin)
        assert cli.main(["user", "add", name, "--role", "viewer", "--client", "acme"]) == 0
        with tenant.connect() as conn:
            clients = conn.execute(
                text("SELECT client_id FROM client_members WHERE role_name = :n"), {"n": name}
            )
            assert clients.scalars().all() == [1]
        # PostgreSQL 16 records the admin as the grantor: its grants go before it does.
        assert cli.main(["user", "remove", name, "--yes"]) == 0


def test_the_scram_verifier_is_the_one_postgres_computes(tenant: Engine, name: str) -> None:
    with tenant.begin() as conn:
        conn.exec_driver_sql(f"CREATE ROLE \"{name}\" LOGIN PASSWORD 'correct horse'")
        server = conn.execute(
            text("SELECT rolpassword FROM pg_authid WHERE rolname = :n"), {"n": name}
        ).scalar_one()
    salt = base64.b64decode(server.split("$")[1].split(":")[1])
    assert scram_verifier("correct horse", salt=salt) == server


def test_a_login_that_still_holds_rights_is_refused_in_one_line(
    tenant: Engine, name: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """PostgreSQL will not drop a role privileges or objects depend on: `user remove` says
    so and what to do, and the login stays."""
    _wire(monkeypatch, tenant)
    assert cli.main(["user", "add", name, "--role", "admin"]) == 0
    with tenant.begin() as conn:
        conn.exec_driver_sql(f'GRANT SELECT ON jobs TO "{name}"')
    capsys.readouterr()
    assert cli.main(["user", "remove", name, "--yes"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    assert "still holds rights or objects" in err and "privileges for table jobs" in err
    with tenant.begin() as conn:
        assert conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :n"), {"n": name}).first()
        conn.exec_driver_sql(f'REVOKE SELECT ON jobs FROM "{name}"')


def _trail(capsys: pytest.CaptureFixture[str], *scope: str) -> list[dict[str, object]]:
    capsys.readouterr()
    assert cli.main(["audit", "--json", "--what", "user.", *scope]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_every_login_change_is_one_audit_row_with_who_and_before_after(
    tenant: Engine, name: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`user add|set-role|revoke|grant|remove` by an admin login: one row each, stamped with
    that login, the login as it was before and after; a refused request writes none. The
    client's trail (`audit`, the `:audit` screen's query) shows the rows naming it."""
    with scratch_login(tenant, "admin", clients=(1,)) as admin:
        _wire(monkeypatch, admin)
        steps = [
            ["user", "add", name, "--role", "viewer", "--client", "acme"],
            ["user", "set-role", name, "user"],
            ["user", "revoke", name, "--client", "acme"],
            ["user", "grant", name, "--client", "acme"],
            ["user", "remove", name, "--yes"],
        ]
        for argv in steps:
            assert cli.main(argv) == 0, argv
        assert cli.main(["user", "revoke", "postgres", "--client", "acme"]) == 2  # refused
        everywhere = _trail(capsys, "--all-clients")
        for_acme = _trail(capsys, "--client", "acme")
        admin_name = admin.url.username

    rows = [row for row in reversed(everywhere) if row["target"] == name]
    viewer = {"role": "viewer", "all_clients": False, "clients": ["acme"], "can_login": True}
    user = {**viewer, "role": "user"}
    assert [(r["action"], r["before"], r["after"]) for r in rows] == [
        ("user.add", None, viewer),
        ("user.set_role", viewer, user),
        ("user.revoke", user, {**user, "clients": []}),
        ("user.grant", {**user, "clients": []}, user),
        ("user.remove", user, None),
    ]
    assert {(r["login"], r["client"]) for r in rows} == {(admin_name, None)}
    assert not [r for r in everywhere if r["target"] == "postgres"]
    # Each of them names acme before or after: acme's own trail shows them all.
    assert [r["action"] for r in reversed(for_acme) if r["target"] == name] == [
        r["action"] for r in rows
    ]


def test_a_viewer_cannot_write_login_change_rows(tenant: Engine) -> None:
    """The database's recorder of login changes is for admins only (PostgreSQL refuses)."""
    with (
        scratch_login(tenant, "user", clients=(1,)) as login,
        login.begin() as conn,
        pytest.raises(ProgrammingError, match="permission denied"),
    ):
        conn.execute(text("SELECT pulse_audit_login_change('user.add', 'x', NULL, '{}'::jsonb)"))
