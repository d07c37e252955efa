"""`client add|list|rename|remove` and `audit`, in process against the test's database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from pulse_console import cli
from pulse_console.commands import database as opener
from pulse_console.engine.service import default_actor
from storage.db import Database
from storage.testing import scratch_login
from tests.engine.conftest import add_jobs


@pytest.fixture
def run(
    database: Database,
    tmp_path: Path,
    isolated_home: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(opener, "open_configured", lambda settings, upgrade_embedded=True: database)

    def call(*args: str) -> tuple[int, str, str]:
        code = cli.main([*args, "--client", "acme", "--data-dir", str(tmp_path / "data")])
        out = capsys.readouterr()
        return code, out.out, out.err

    return call


def names(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(text("SELECT name FROM clients ORDER BY name")).scalars())


def test_add_list_rename_remove(run, engine: Engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert run("client", "add", "acme")[0] == 0
    code, out, _ = run("client", "add", "globex", "--display-name", "Globex Corp")
    assert code == 0 and "--client globex" in out
    code, out, err = run("client", "add", "acme")
    assert code == 2 and "already exists" in err and err.count("\n") == 1
    code, out, err = run("client", "add", "../x")
    assert code == 2 and "not allowed" in err

    code, out, _ = run("client", "list", "--json")
    listed = {c["name"]: c for c in json.loads(out)}
    assert listed["globex"]["display_name"] == "Globex Corp"
    assert set(listed) == {"acme", "globex"}

    logs = tmp_path / "data" / "logs"
    logs.mkdir(parents=True)
    (logs / "jobs-globex.jsonl").write_text("{}\n")
    (logs / "jobs-globex.jsonl.1").write_text("{}\n")
    assert run("client", "rename", "globex", "initech")[0] == 0
    assert names(engine) == ["acme", "initech"]
    assert sorted(p.name for p in logs.iterdir()) == ["jobs-initech.jsonl", "jobs-initech.jsonl.1"]
    code, _, err = run("client", "rename", "initech", "acme")
    assert code == 2 and "already exists" in err

    code, _, err = run("client", "remove", "initech")
    assert code == 2 and "--yes" in err and names(engine) == ["acme", "initech"]
    code, out, _ = run("client", "remove", "initech", "--yes")
    assert code == 0 and "removed" in out and names(engine) == ["acme"]


def test_an_unknown_client_points_to_client_add(run) -> None:  # type: ignore[no-untyped-def]
    code, _, err = run("client", "rename", "nobody", "x")
    assert code == 2 and "pulse-console client add nobody" in err
    code, _, err = run("audit")
    assert code == 2 and "pulse-console client add acme" in err


def test_a_client_driven_by_a_worker_is_not_removed(run, database: Database) -> None:  # type: ignore[no-untyped-def]
    from storage.models import PoolWorker

    add_jobs(database, "acme", ["jira"])
    with database.session() as session:  # a live worker of the pool that serves acme
        session.add(PoolWorker(name="worker-1", host="h", pid=1, concurrency=1, clients=["acme"]))
    code, _, err = run("client", "remove", "acme", "--yes")
    assert code == 2 and "driven by worker-1" in err
    with database.session() as session:
        session.query(PoolWorker).delete()
    assert run("client", "remove", "acme", "--yes")[0] == 0


def test_audit_lists_who_changed_what_with_filters(run, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    assert run("client", "add", "acme")[0] == 0
    with engine.connect() as conn:
        acme = conn.execute(text("SELECT id FROM clients WHERE name = 'acme'")).scalar_one()
    with scratch_login(engine, "admin", clients=(acme,)) as login:
        with login.begin() as conn:
            other = conn.execute(text("SELECT session_user")).scalar_one()
            conn.exec_driver_sql(
                "INSERT INTO flow_steps (client_id, name, category)"
                " SELECT id, 'Review', 'in_progress' FROM clients"
            )
        code, out, _ = run("audit", "--who", other)
        assert code == 0
        [row] = out.splitlines()
        assert other in row and "flow_steps.insert Review" in row and "category=in_progress" in row
        code, out, _ = run("audit", "--json", "--what", "clients")
        [entry] = [json.loads(line) for line in out.splitlines()]
        assert entry["action"] == "clients.insert" and entry["details"]["operation"] == "client add"
        assert entry["actor"] == default_actor()  # the operator@host running the command
        assert run("audit", "--since", "2999-01-01")[1] == ""
        with pytest.raises(SystemExit) as bad:  # argparse's own one line, exit 2
            run("audit", "--since", "yesterday")
        assert bad.value.code == 2


def test_a_viewer_lists_its_clients_and_reads_the_trail_but_may_not_manage_them(  # type: ignore[no-untyped-def]
    run, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run("client", "add", "acme")[0] == 0
    assert run("client", "add", "globex")[0] == 0
    with engine.connect() as conn:
        acme = conn.execute(text("SELECT id FROM clients WHERE name = 'acme'")).scalar_one()
    with scratch_login(engine, "viewer", clients=(acme,)) as viewer:
        as_viewer = Database(engine=viewer, embedded=False)
        monkeypatch.setattr(
            opener, "open_configured", lambda settings, upgrade_embedded=True: as_viewer
        )
        code, out, _ = run("client", "list", "--json")
        assert code == 0 and [c["name"] for c in json.loads(out)] == ["acme"]  # not globex
        code, out, _ = run("audit", "--what", "clients")
        assert code == 0 and "clients.insert acme" in out
        for args in (("add", "initech"), ("rename", "acme", "x"), ("remove", "acme", "--yes")):
            code, _, err = run("client", *args)
            assert code == 2 and err.count("\n") == 1, err
            assert "may not manage clients: needs role admin" in err
    assert names(engine) == ["acme", "globex"]
