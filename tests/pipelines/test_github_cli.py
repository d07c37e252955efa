"""`pulse-console github integration add|test` and `github sync` against the socket server."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from connectors.sandbox.credentials import DEMO_GITHUB_TOKEN
from connectors.sandbox.github import GitHubSimulator
from connectors.sandbox.org import Org
from connectors.sandbox.server import SandboxServer
from pulse_console.cli import main


def _url(engine: Engine, pg_url: str) -> str:
    with engine.connect() as conn:
        schema = conn.execute(text("SELECT current_schema()")).scalar_one()
    return f"{pg_url}?options=-csearch_path%3D{schema}"


def test_add_test_and_sync(
    engine: Engine,
    pg_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    org = Org(7, "tiny")
    sim = GitHubSimulator(org)
    common = [
        "--database-url",
        _url(engine, pg_url),
        "--data-dir",
        str(tmp_path),
        "--client",
        "acme",
    ]
    monkeypatch.setattr("storage.secrets.usable_keyring_backend", lambda: None)
    with SandboxServer({"github": sim.handle}) as server:
        monkeypatch.setattr("sys.stdin", io.StringIO(DEMO_GITHUB_TOKEN + "\n"))
        base = server.base_urls["github"]
        code = main(
            [*common, "github", "integration", "add", "--name", "gh", "--token-stdin",
             "--base-url", base, "--org", org.clients[0].github_org, "--pattern", "*"]
        )  # fmt: skip
        assert code == 0
        assert main([*common, "github", "integration", "test", "gh"]) == 0
        assert "as pulse-sandbox" in capsys.readouterr().out
        assert main([*common, "github", "sync", "gh"]) == 0
        out = capsys.readouterr()
    assert f"{org.pull_request_count} pull requests" in out.out
    assert "GraphQL budget" in out.err
    with engine.connect() as conn:
        secret_ref = conn.execute(text("SELECT secret_ref FROM integrations")).scalar_one()
        config = conn.execute(text("SELECT config::text FROM integrations")).scalar_one()
    assert DEMO_GITHUB_TOKEN not in secret_ref + config
