"""`integration add azure_devops`, `integration test` and `sync NAME` end to end over a real
socket (the simulator served like Azure DevOps Server: the release API on the same base)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from connectors.sandbox.azure_devops import AdoOrg, AzureDevOpsSimulator
from connectors.sandbox.server import SandboxServer
from pulse_console import cli
from pulse_console.commands import database as opener
from storage.db import Database
from tests.pipelines.ado_support import PAT, expected, snapshot
from tests.pipelines.harness import MemorySecrets
from tests.pipelines.test_sync_cli import secret_ref


@pytest.fixture
def wired(
    database: Database, monkeypatch: pytest.MonkeyPatch, isolated_home: Path
) -> MemorySecrets:
    secrets = MemorySecrets()
    monkeypatch.setattr(opener, "open_configured", lambda settings, upgrade_embedded=True: database)
    monkeypatch.setattr(opener, "open_secrets", lambda database, settings: secrets)
    return secrets


def test_add_test_and_sync_an_azure_devops_integration_from_the_command_line(
    database: Database,
    wired: MemorySecrets,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    org = AdoOrg(7, "tiny", work_items=40, pull_requests=10)
    with SandboxServer({"ado": AzureDevOpsSimulator(org, PAT).handle}) as server:
        url = server.base_urls["ado"] + "/sandbox"
        base = ["--client", "acme"]
        add = ["integration", "add", "azure_devops", "--name", "ado", "--base-url", url, *base]
        monkeypatch.setattr("sys.stdin", io.StringIO("not-the-pat\n"))
        assert cli.main([*add, "--token-stdin"]) == 1
        err = capsys.readouterr().err
        assert "sign-in page" in err and "not saved" in err and not wired.values

        monkeypatch.setattr("sys.stdin", io.StringIO(PAT + "\n"))
        assert cli.main([*add, "--token-stdin"]) == 0
        assert "Connected" in capsys.readouterr().out
        assert wired.values == {secret_ref(database, "ado"): PAT}

        assert cli.main(["integration", "test", "ado", *base]) == 0
        assert cli.main(["sync", "ado", *base]) == 0
        out = capsys.readouterr()
        assert "work items: 40" in out.out and "API calls" in out.out
        assert PAT not in out.out + out.err
        assert snapshot(database.engine) == expected(org)
        assert cli.main(["sync", "ado", "--full", *base]) == 0
        assert snapshot(database.engine) == expected(org)
