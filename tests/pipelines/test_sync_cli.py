"""`integration add jira|github`, `integration test` and `sync NAME` end to end over a real
socket: one set of commands for every integration type."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlalchemy import text

from connectors.sandbox.credentials import DEMO_GITHUB_TOKEN, DEMO_JIRA
from connectors.sandbox.github import GitHubSimulator
from connectors.sandbox.jira import JiraSimulator
from connectors.sandbox.org import Org
from connectors.sandbox.server import SandboxServer
from pulse_console import cli
from pulse_console.commands import database as opener
from pulse_console.pipelines.base import IntegrationRef
from pulse_console.pipelines.jira.options import JiraSyncOptions
from storage.db import Database
from tests.pipelines.github_support import snapshot, truth
from tests.pipelines.harness import MemorySecrets, expected, stored


def secret_ref(database: Database, name: str) -> str:
    """Where the integration's token is kept: named by the client's and integration's ids."""
    with database.engine.connect() as conn:
        row = conn.execute(
            text("SELECT client_id, id, secret_ref FROM integrations WHERE name = :n"), {"n": name}
        ).one()
    assert row.secret_ref == f"integration/{row.client_id}/{row.id}"
    return str(row.secret_ref)


@pytest.fixture
def wired(
    database: Database, monkeypatch: pytest.MonkeyPatch, isolated_home: Path
) -> MemorySecrets:
    secrets = MemorySecrets()
    monkeypatch.setattr(opener, "open_configured", lambda settings, upgrade_embedded=True: database)
    monkeypatch.setattr(opener, "open_secrets", lambda database, settings: secrets)
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
        assert wired.values == {secret_ref(database, "main"): DEMO_JIRA.api_token}

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


def test_add_test_and_sync_a_github_integration_from_the_command_line(
    database: Database,
    wired: MemorySecrets,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    org = Org(7, "tiny")
    second = "ghp_second_token_for_the_pool"
    sim = GitHubSimulator(org, tokens=(DEMO_GITHUB_TOKEN, second))
    with SandboxServer({"github": sim.handle}) as server:
        base = ["--client", "acme"]
        add = ["integration", "add", "github", "--name", "gh", "--token-stdin", *base,
               "--base-url", server.base_urls["github"], "--deployments", "graphql"]  # fmt: skip
        org_args = ["--org", org.clients[0].github_org, "--pattern", "*"]
        monkeypatch.setattr("sys.stdin", io.StringIO("ghp_wrong\n"))
        assert cli.main([*add, *org_args]) == 1
        assert "not saved" in capsys.readouterr().err and not wired.values
        monkeypatch.setattr("sys.stdin", io.StringIO(DEMO_GITHUB_TOKEN + "\n"))
        assert cli.main([*add, "--pattern", "*"]) == 1
        assert "--org" in capsys.readouterr().err and not wired.values

        monkeypatch.setattr("sys.stdin", io.StringIO(f"{DEMO_GITHUB_TOKEN}\n\n{second}\n"))
        assert cli.main([*add, *org_args]) == 0
        assert "as pulse-sandbox" in capsys.readouterr().out
        assert wired.values == {secret_ref(database, "gh"): f"{DEMO_GITHUB_TOKEN}\n{second}"}

        assert cli.main(["integration", "test", "gh", *base]) == 0
        assert "Connected to GitHub" in capsys.readouterr().out
        assert cli.main(["sync", "gh", *base]) == 0
        out = capsys.readouterr()
        assert "gh: full sync finished" in out.out and "API calls" in out.out
        assert f"pull requests: {org.pull_request_count}" in out.out
        assert "GraphQL budget" in out.err
        assert DEMO_GITHUB_TOKEN not in out.out + out.err
        rows, made = snapshot(database.engine), truth(org)
        assert {t: len(rows[t]) for t in made} == made

        assert cli.main(["sync", "gh", *base]) == 0
        assert "gh: incremental sync finished" in capsys.readouterr().out
        assert cli.main(["sync", "gh", "--full", *base]) == 0
        out = capsys.readouterr()
        assert "gh: full sync finished" in out.out
        assert f"pull requests: {org.pull_request_count}" in out.out
        assert {t: len(rows[t]) for t in made} == made

    wired.values.clear()
    assert cli.main(["integration", "test", "gh", "--client", "acme"]) == 1
    assert "No token" in capsys.readouterr().err
    with database.engine.connect() as conn:
        config, ok = conn.execute(text("SELECT config::text, last_test_ok FROM integrations")).one()
    assert DEMO_GITHUB_TOKEN not in config and second not in config
    assert ok is False, "the CLI's test is remembered like the console's"


def test_max_in_flight_and_windows_from_the_command_line_are_the_sync_s(
    database: Database,
    wired: MemorySecrets,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with SandboxServer({"jira": JiraSimulator(Org(7, "tiny"), DEMO_JIRA).handle}) as server:
        add = ["integration", "add", "jira", "--name", "j", "--base-url", server.base_urls["jira"]]
        add += ["--email", DEMO_JIRA.email, "--token-stdin", "--client", "acme"]
        monkeypatch.setattr("sys.stdin", io.StringIO(DEMO_JIRA.api_token + "\n"))
        assert cli.main([*add, "--max-in-flight", "0"]) == 1  # as other bad options
        assert "--max-in-flight must be a whole number from 1 to 100" in capsys.readouterr().err
        monkeypatch.setattr("sys.stdin", io.StringIO(DEMO_JIRA.api_token + "\n"))
        assert cli.main([*add, "--windows", "17"]) == 1
        assert "--windows must be a whole number from 1 to 16" in capsys.readouterr().err
        monkeypatch.setattr("sys.stdin", io.StringIO(DEMO_JIRA.api_token + "\n"))
        assert cli.main([*add, "--max-in-flight", "3", "--windows", "2", "--window-threads"]) == 0
    with database.engine.connect() as conn:
        row = conn.execute(text("SELECT id, name, type, base_url, config FROM integrations")).one()
    ref = IntegrationRef(row.id, row.name, row.type, row.base_url, row.config)
    options = JiraSyncOptions.from_integration(ref)  # what the sync's gate and windows take
    assert (options.max_in_flight, options.windows, options.window_processes) == (3, 2, False)


def test_a_jira_token_is_one_line(
    wired: MemorySecrets, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("one\ntwo\n"))
    add = ["integration", "add", "jira", "--name", "j", "--base-url", "https://x.example"]
    assert cli.main([*add, "--data-center", "--token-stdin", "--client", "acme"]) == 2
    assert "one jira token" in capsys.readouterr().err and not wired.values


def test_sync_of_an_unknown_integration_is_one_line(
    wired: MemorySecrets, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["sync", "nope", "--client", "acme"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "integration add <type>" in err
