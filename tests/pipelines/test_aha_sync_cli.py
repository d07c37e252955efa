"""`integration add aha`, `integration test` and `sync NAME` end to end over a real socket."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import text

from connectors.sandbox.aha import DEMO_AHA_KEY, AhaOrg, AhaSimulator
from connectors.sandbox.org import Org
from connectors.sandbox.server import SandboxServer
from pulse_console import cli
from storage.db import Database
from tests.pipelines.aha_support import expected, stored
from tests.pipelines.harness import MemorySecrets
from tests.pipelines.test_sync_cli import secret_ref, wired  # noqa: F401 - the shared fixture


def test_add_test_and_sync_an_aha_integration_from_the_command_line(
    database: Database,
    wired: MemorySecrets,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    aha = AhaOrg(Org(7, "tiny"), features=80)
    with SandboxServer({"aha": AhaSimulator(aha).handle}) as server:
        base = ["--client", "acme"]
        add = ["integration", "add", "aha", "--name", "plans", "--token-stdin", *base,
               "--base-url", server.base_urls["aha"]]  # fmt: skip
        monkeypatch.setattr("sys.stdin", io.StringIO("wrong-key\n"))
        assert cli.main(add) == 1
        assert "not saved" in capsys.readouterr().err and not wired.values

        monkeypatch.setattr("sys.stdin", io.StringIO(DEMO_AHA_KEY + "\n"))
        assert cli.main([*add, "--product", aha.products[0].prefix]) == 0
        assert "Connected to Aha!" in capsys.readouterr().out
        assert wired.values == {secret_ref(database, "plans"): DEMO_AHA_KEY}

        assert cli.main(["integration", "test", "plans", *base]) == 0
        assert cli.main(["sync", "plans", *base]) == 0
        out = capsys.readouterr()
        assert "plans: full sync finished" in out.out and "429 answers: 0" in out.out
        assert DEMO_AHA_KEY not in out.out + out.err
        mine = {k: v for k, v in expected(aha).items.items() if v[1] == aha.products[0].prefix}
        assert stored(database).items == mine

        assert cli.main(["sync", "plans", *base]) == 0
        assert "plans: incremental sync finished" in capsys.readouterr().out

    with database.engine.connect() as conn:
        config = conn.execute(text("SELECT config::text FROM integrations")).scalar_one()
    assert DEMO_AHA_KEY not in config and aha.products[0].prefix in config
