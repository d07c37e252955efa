"""Every command ends in one line on stderr and an exit code, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from storage.db import Database
from storage.integrations import save_integration, secret_name
from storage.secrets import open_secret_store
from storage.tenancy import ensure_client
from tests.engine.test_processes import cli, schema_url

ROOT = Path(__file__).resolve().parents[2]


def test_a_job_started_in_the_foreground_against_a_stopped_server_ends_in_one_line(
    pg_url: str,
    engine: Engine,
    database: Database,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("PULSE_ENCRYPTION_KEY", raising=False)
    with database.session() as session:
        client_id = ensure_client(session, "acme")
        integration_id = save_integration(
            session,
            client_id=client_id,
            name="github",
            type="github",
            base_url="http://127.0.0.1:9",  # the discard port: nothing answers
            config={"orgs": ["acme"]},
        )
    store = open_secret_store(engine, tmp_path, allow_keyring=False)
    store.set(secret_name(client_id, integration_id), "ghp_sandbox_token_1234567890")
    done = cli(schema_url(pg_url, engine), tmp_path, "jobs", "start", "github_sync")
    assert "Traceback" not in done.stderr + done.stdout, done.stderr
    assert done.returncode == 1, done.stderr
    lines = done.stderr.strip().splitlines()
    assert all(line.startswith("pulse-console: ") for line in lines), done.stderr
    assert lines[-1].startswith("pulse-console: failed: github_sync") and "unreachable" in lines[-1]
