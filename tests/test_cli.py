from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine

from pulse_console import __version__
from pulse_console.cli import build_parser, main


def all_command_paths(
    parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()
) -> list[tuple[str, ...]]:
    paths = [prefix]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                paths.extend(all_command_paths(sub, (*prefix, name)))
    return paths


@pytest.mark.parametrize(
    "path", all_command_paths(build_parser()), ids=lambda p: " ".join(p) or "top"
)
def test_every_command_has_help(path: tuple[str, ...], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main([*path, "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: pulse-console")


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--version"])
    assert __version__ in capsys.readouterr().out


def url_for(pg_url: str, schema: str) -> str:
    sep = "&" if "?" in pg_url else "?"
    return f"{pg_url}{sep}options=-csearch_path%3D{schema}"


def current_schema(engine: Engine) -> str:
    from sqlalchemy import text

    with engine.connect() as conn:
        return str(conn.execute(text("SELECT current_schema()")).scalar_one())


def test_db_status_upgrade_and_reset_on_an_external_database(
    pg_url: str, empty_engine: Engine, capsys: pytest.CaptureFixture[str], isolated_home: Path
) -> None:
    url = url_for(pg_url, current_schema(empty_engine))
    assert main(["db", "status", "--database-url", url]) == 2, "behind: status says so"
    assert "pending" in capsys.readouterr().out
    assert main(["db", "upgrade", "--database-url", url]) == 0
    assert main(["db", "status", "--json", "--database-url", url]) == 0
    status = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert status["up_to_date"] and not status["embedded"]
    assert main(["db", "reset", "--database-url", url]) == 2
    assert "--yes" in capsys.readouterr().err
    assert main(["db", "reset", "--yes", "--database-url", url]) == 0


def test_the_console_refuses_an_external_database_that_is_behind(
    pg_url: str, empty_engine: Engine, capsys: pytest.CaptureFixture[str], isolated_home: Path
) -> None:
    url = url_for(pg_url, current_schema(empty_engine))
    assert main(["--database-url", url]) == 2
    err = capsys.readouterr().err
    assert "db upgrade" in err and "Traceback" not in err


def test_unreachable_database_is_one_line_not_a_traceback(
    capsys: pytest.CaptureFixture[str], isolated_home: Path
) -> None:
    code = main(["db", "status", "--database-url", "postgresql://nobody:pw@127.0.0.1:1/none"])
    err = capsys.readouterr().err
    assert code == 1
    assert err.count("\n") == 1 and "cannot connect" in err and "pw" not in err


def test_config_show_masks_the_database_password(
    capsys: pytest.CaptureFixture[str], isolated_home: Path
) -> None:
    assert main(["config", "show", "--json", "--database-url", "postgresql://u:hunter2@h/db"]) == 0
    out = capsys.readouterr().out
    assert "hunter2" not in out and json.loads(out)["database_url"] == "postgresql://u:***@h/db"


def test_bad_config_file_exits_2_with_one_line(tmp_path: Path, isolated_home: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[retry]\nmax_attempts = 'x'\n")
    proc = subprocess.run(
        [sys.executable, "-m", "pulse_console.cli", "--config", str(bad), "config", "show"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1
    assert str(bad) in proc.stderr and "retry.max_attempts" in proc.stderr


def test_orchestrator_status_with_no_worker_says_idle_never_running(
    pg_url: str, tenant: Engine, capsys: pytest.CaptureFixture[str], isolated_home: Path
) -> None:
    url = url_for(pg_url, current_schema(tenant))
    status = ["orchestrator", "status", "--database-url", url, "--client", "acme"]
    assert main(status) == 0
    out = capsys.readouterr().out
    assert "driven by nobody" in out
    assert "orchestrator: idle — no worker drives this client" in out
    assert "running" not in out
    assert main(["orchestrator", "pause", "--database-url", url, "--client", "acme"]) == 0
    capsys.readouterr()
    assert main(status) == 0
    assert "orchestrator: paused, and idle — no worker drives" in capsys.readouterr().out
