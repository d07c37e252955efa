"""`integration add jira`, `integration test` and `sync NAME` end to end over a real socket."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlalchemy import text

from connectors.sandbox.credentials import DEMO_JIRA
from connectors.sandbox.jira import JiraSimulator
from connectors.sandbox.org import Org
from connectors.sandbox.server import SandboxServer
from pulse_console import cli
from pulse_console.commands import sync as commands
from storage.db import Database
from tests.pipelines.harness import MemorySecrets, expected, stored


@pytest.fixture
def wired(
    database: Database, monkeypatch: pytest.MonkeyPatch, isolated_home: Path
) -> MemorySecrets:
    secrets = MemorySecrets()
    monkeypatch.setattr(commands, "open_database", lambda url, data_dir: database)
    monkeypatch.setattr(commands, "open_secret_store", lambda engine, data_dir: secrets)
    return secrets


def test_add_test_and_sync_a_jira_integration_from_the_command_line(
    database: Database,
    wired: MemorySecrets,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    org = Org(7, "tiny")
    with SandboxServer({"jira": JiraSimulator(org, DEMO_JIRA).handle}) as server:
        url = server.base_urls["jira"]
        base = ["--client", "acme"]
        monkeypatch.setattr("sys.stdin", io.StringIO("wrong-token\n"))
        add = ["integration", "add", "jira", "--name", "main", "--base-url", url, *base]
        assert cli.main([*add, "--email", DEMO_JIRA.email, "--token-stdin"]) == 1
        assert "not saved" in capsys.readouterr().err and not wired.values

        monkeypatch.setattr("sys.stdin", io.StringIO(DEMO_JIRA.api_token + "\n"))
        assert cli.main([*add, "--email", DEMO_JIRA.email, "--token-stdin"]) == 0
        assert "Connected" in capsys.readouterr().out
        assert wired.values == {"integration:acme:main": DEMO_JIRA.api_token}

        assert cli.main(["integration", "test", "main", *base]) == 0
        assert cli.main(["sync", "main", *base]) == 0
        out = capsys.readouterr()
        assert "full sync finished" in out.out and "API calls" in out.out
        assert DEMO_JIRA.api_token not in out.out + out.err
        assert stored(database) == expected(org)

        assert cli.main(["sync", "main", "--full", *base]) == 0
        assert "full sync finished" in capsys.readouterr().out

    with database.engine.connect() as conn:
        config = conn.execute(text("SELECT config::text FROM integrations")).scalar_one()
    assert DEMO_JIRA.api_token not in config


def test_sync_of_an_unknown_integration_is_one_line(
    wired: MemorySecrets, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["sync", "nope", "--client", "acme"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "integration add jira" in err
