"""`pulse-console token …`, `serve` and `worker --serve` as an operator runs them."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, select, text

from pulse_console.cli import main
from pulse_console.services import api_tokens
from storage.db import Database, make_engine
from storage.models import ApiToken, AuditLog
from tests.test_cli import current_schema, url_for

ROOT = Path(__file__).resolve().parents[2]
SERVE_OPTIONS = ["--port", "0", "--rate", "0.01", "--burst", "20"]


@pytest.fixture
def url(pg_url: str, tenant: Engine, isolated_home: Path) -> str:
    return url_for(pg_url, current_schema(tenant))


def test_token_create_shows_it_once_stores_its_hash_and_list_and_revoke_work(
    url: str, database: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["--database-url", url, "--client", "acme"]
    assert main(["token", "create", "--role", "user", "--name", "ci", *base]) == 0
    out = capsys.readouterr()
    token = out.out.strip()
    assert re.fullmatch(r"pulse_[A-Za-z0-9_-]{43}", token)
    assert "shown only now" in out.err
    with database.session() as session:
        row = session.execute(select(ApiToken)).scalar_one()
        assert (row.name, row.role, row.token_hash) == ("ci", "user", api_tokens.digest(token))
    caller = api_tokens.authenticate(database, token)
    assert caller == api_tokens.Caller("ci", "acme", "user", row.db_role)
    assert row.db_role is not None and role_groups(database, row.db_role) == {
        "pulse_user",
        "pulse_viewer",
    }
    assert main(["token", "create", "--role", "user", "--name", "ci", *base]) == 2
    assert "already has a token named 'ci'" in capsys.readouterr().err
    assert main(["token", "list", "--json", *base]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(t["name"], t["role"], t["revoked_at"]) for t in listed] == [("ci", "user", None)]
    assert token not in json.dumps(listed)
    assert main(["token", "revoke", "ci", *base]) == 0
    assert api_tokens.authenticate(database, token) is None
    assert role_groups(database, row.db_role) == set()  # its role is dropped with it
    assert main(["token", "revoke", "ci", *base]) == 2
    assert "no active token named 'ci'" in capsys.readouterr().err
    with database.session() as session:
        actions = session.execute(
            select(AuditLog.action).where(AuditLog.action.like("api_token.%")).order_by(AuditLog.id)
        ).scalars()
        assert list(actions) == ["api_token.create", "api_token.revoke"]


def role_groups(database: Database, role: str) -> set[str]:
    """The product groups `role` is in (empty when it does not exist)."""
    with database.session() as session:
        return set(
            session.execute(
                text(
                    "SELECT g.rolname FROM pg_roles g, pg_roles r WHERE r.rolname = :r"
                    " AND g.rolname IN ('pulse_viewer', 'pulse_user', 'pulse_admin')"
                    " AND pg_has_role(r.oid, g.oid, 'MEMBER')"
                ),
                {"r": role},
            ).scalars()
        )


def test_token_create_for_an_unknown_client_is_refused(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["token", "create", "--role", "admin", "--database-url", url, "--client", "nobody"]
    assert main(args) == 2
    assert "there is no client 'nobody'" in capsys.readouterr().err


class Process:
    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "pulse_console.cli", *args],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, **env},
        )
        self.lines: list[str] = []
        self.found = threading.Event()
        self.url = ""
        self.web_url = ""
        self.web_found = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)
            match = re.search(r"http://127\.0\.0\.1:\d+", line)
            if match and "web console" in line:
                self.web_url = match.group()
                self.web_found.set()
            elif match and not self.found.is_set():
                self.url = match.group()
                self.found.set()

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(30)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("command", "leader"), [(["serve"], None), (["worker", "--serve", "--name", "w1"], "w1")]
)
def test_serve_and_worker_serve_answer_until_sigterm(
    url: str, database: Database, tmp_path: Path, command: list[str], leader: str | None
) -> None:
    token, _ = api_tokens.create(database, "acme", "viewer", actor="t")
    limited, _ = api_tokens.create(database, "acme", "viewer", name="limited", actor="t")
    process = Process(
        [*command, *SERVE_OPTIONS, "--database-url", url, "--client", "acme"],
        {"PULSE_DATA_DIR": str(tmp_path / "data")},
    )
    try:
        assert process.found.wait(60), "".join(process.lines)
        headers = {"Authorization": f"Bearer {token}"}
        assert httpx.get(f"{process.url}/health", timeout=10).json() == {"status": "ok"}

        def orchestrator() -> dict[str, object]:
            answer = httpx.get(
                f"{process.url}/api/v1/clients/acme/orchestrator", headers=headers, timeout=10
            )
            assert answer.status_code == 200, answer.text
            return dict(answer.json())

        if leader is not None:  # the worker takes the lock just after it starts serving
            from tests.engine.test_processes import wait_for

            wait_for(lambda: orchestrator()["leader"] == leader)
        assert orchestrator()["leader"] == leader
        jobs = f"{process.url}/api/v1/clients/acme/jobs"
        answers = [
            httpx.get(jobs, headers={"Authorization": f"Bearer {limited}"}, timeout=10)
            for _ in range(21)
        ]
        assert [a.status_code for a in answers] == [200] * 20 + [429]  # --burst, --rate
        assert 90 <= int(answers[-1].headers["retry-after"]) <= 100  # 1 / 0.01 s
    finally:
        code = process.stop()
    assert code == 0, "".join(process.lines)


@pytest.mark.slow
@pytest.mark.parametrize("serve", [["--serve"], []], ids=["serve-web", "web-implies-serve"])
def test_worker_serve_web_answers_the_api_and_the_web_console_with_a_token(
    url: str, database: Database, tmp_path: Path, serve: list[str]
) -> None:
    token, _ = api_tokens.create(database, "acme", "viewer", actor="t")
    options = ["--web", "--web-port", "0", *SERVE_OPTIONS, "--database-url", url]
    process = Process(
        ["worker", *serve, "--name", "w1", *options, "--client", "acme"],
        {"PULSE_DATA_DIR": str(tmp_path / "data")},
    )
    try:
        assert process.found.wait(60) and process.web_found.wait(60), "".join(process.lines)
        jobs = f"{process.url}/api/v1/clients/acme/jobs"
        assert httpx.get(jobs, timeout=10).status_code == 401  # no token
        answer = httpx.get(jobs, headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert answer.status_code == 200 and isinstance(answer.json(), list), answer.text
        with httpx.Client(base_url=process.web_url, timeout=10, follow_redirects=True) as web:
            assert web.get("/").status_code == 401  # the console's page needs the token too
            opened = web.get("/", params={"token": token})  # kept in a cookie, then the page
            assert opened.status_code == 200 and "<html" in opened.text.lower()
            assert opened.history[0].status_code == 303 and "token" not in str(opened.url)
    finally:
        code = process.stop()
    assert code == 0, "".join(process.lines)


def test_a_token_used_again_within_the_minute_is_not_written_again(
    tenant: Engine, database: Database
) -> None:
    token, _ = api_tokens.create(database, "acme", "viewer", name="busy", actor="t")
    assert api_tokens.authenticate(database, token) is not None
    assert api_tokens.list_tokens(database, "acme")[0].last_used_at is not None
    with tenant.begin() as conn:
        conn.execute(text("UPDATE api_tokens SET last_used_at = NULL"))
    assert api_tokens.authenticate(database, token) is not None  # noted a moment ago
    assert api_tokens.list_tokens(database, "acme")[0].last_used_at is None


def test_a_token_notes_its_last_use_unless_the_login_may_not_write_it(
    pg_url: str, tenant: Engine, database: Database
) -> None:
    token, _ = api_tokens.create(database, "acme", "viewer", name="seen", actor="t")
    assert api_tokens.authenticate(database, token) is not None
    assert api_tokens.list_tokens(database, "acme")[0].last_used_at is not None
    schema = current_schema(tenant)
    role = f"api16_ro_{uuid.uuid4().hex[:8]}"
    with tenant.begin() as conn:
        conn.execute(text(f'CREATE ROLE "{role}" NOLOGIN'))
        conn.execute(text(f'GRANT USAGE ON SCHEMA "{schema}" TO "{role}"'))
        conn.execute(text(f'GRANT SELECT ON api_tokens, clients TO "{role}"'))
        conn.execute(text("UPDATE api_tokens SET last_used_at = NULL"))
        conn.execute(  # it reads under row-level security as itself (migration 0021)
            text("INSERT INTO client_members (role_name, client_id) SELECT :r, id FROM clients"),
            {"r": role},
        )
    reader = make_engine(f"{url_for(pg_url, schema)}%20-crole%3D{role}")
    try:
        read_only = Database(engine=reader, embedded=False)
        caller = api_tokens.authenticate(read_only, token)
        assert caller is not None and (caller.name, caller.role) == ("seen", "viewer")
    finally:
        reader.dispose()
        with tenant.begin() as conn:
            conn.execute(text("DELETE FROM client_members WHERE role_name = :r"), {"r": role})
            conn.execute(text(f'DROP OWNED BY "{role}"'))
            conn.execute(text(f'DROP ROLE "{role}"'))
    assert api_tokens.list_tokens(database, "acme")[0].last_used_at is None
