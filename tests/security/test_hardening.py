"""Issue 13: trust boundaries — secrets, names, URLs, ordinary failures, private files.

Each test is named after what it protects and failed before its fix.
"""

from __future__ import annotations

import io
import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text

from connectors.sandbox.credentials import DEMO_GITHUB_TOKEN, DEMO_JIRA
from connectors.sandbox.faults import EchoAuth, FaultScenario
from connectors.sandbox.github import GitHubSimulator
from connectors.sandbox.jira import JiraSimulator
from connectors.sandbox.org import Org
from connectors.sandbox.server import SandboxServer
from pulse_console import cli
from pulse_console.commands import database as command_database
from pulse_console.commands.output import terminal_safe
from pulse_console.config import load_settings
from storage.db import Database


@pytest.fixture
def wired(
    database: Database, monkeypatch: pytest.MonkeyPatch, isolated_home: Path, tmp_path: Path
) -> list[str]:
    """The CLI on the test database, its secrets encrypted there; returns the global flags."""
    monkeypatch.setenv("PULSE_ENCRYPTION_KEY", Fernet.generate_key().decode())
    monkeypatch.setattr(
        command_database, "open_configured", lambda settings, upgrade_embedded=True: database
    )
    return ["--client", "acme", "--data-dir", str(tmp_path / "data")]


def crash_reports(tmp_path: Path) -> list[Path]:
    return sorted(tmp_path.rglob("crash-*.txt"))


def test_a_token_a_server_echoes_back_is_never_stored_logged_or_shown(
    database: Database,
    wired: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    sim = JiraSimulator(Org(7, "tiny"), DEMO_JIRA)
    echo = EchoAuth(every=1, status=401)
    with SandboxServer({"jira": sim.handle}) as server:
        add = ["integration", "add", "jira", "--name", "main", "--token-stdin", "--email",
               DEMO_JIRA.email, "--base-url", server.base_urls["jira"], *wired]  # fmt: skip
        sim.faults.scenario = FaultScenario(echo_auth=echo)
        monkeypatch.setattr("sys.stdin", io.StringIO(DEMO_JIRA.api_token + "\n"))
        assert cli.main(add) == 1  # refused, and the echoed token is not printed
        sim.faults.scenario = FaultScenario()
        monkeypatch.setattr("sys.stdin", io.StringIO(DEMO_JIRA.api_token + "\n"))
        assert cli.main(add) == 0

        sim.faults.scenario = FaultScenario(echo_auth=echo)  # JSON 401 body
        assert cli.main(["integration", "test", "main", *wired]) == 1
        sim.faults.scenario = FaultScenario(echo_auth=EchoAuth(every=1, status=400, html=True))
        assert cli.main(["sync", "main", *wired]) == 1
        assert cli.main(["jobs", "start", "main", *wired]) == 1  # the job of integration main
        assert cli.main(["jobs", "list", "--json", *wired]) == 0
    out = capfd.readouterr()
    with database.engine.connect() as conn:
        stored = conn.execute(
            text(
                "SELECT coalesce(string_agg(last_test_message, '|'), '') FROM integrations "
                "UNION ALL SELECT coalesce(string_agg(status_reason, '|'), '') FROM jobs "
                "UNION ALL SELECT coalesce(string_agg(error, '|'), '') FROM job_runs "
                "UNION ALL SELECT coalesce(string_agg(message, '|'), '') FROM log_entries"
            )
        ).scalars()
        db_text = "\n".join(stored)
        failed = conn.execute(text("SELECT count(*) FROM job_runs WHERE error LIKE '%***%'"))
    logs = "".join(p.read_text() for p in (tmp_path / "data").rglob("*.jsonl*"))
    assert failed.scalar_one() >= 1 and "***" in db_text  # the echo reached every sink…
    for seen in (db_text, logs, out.out, out.err):
        assert DEMO_JIRA.api_token not in seen  # …without the token in any form
        assert "Basic " + DEMO_JIRA.api_token[:4] not in seen
    assert crash_reports(tmp_path) == []


def test_printed_text_cannot_drive_the_terminal() -> None:
    shown = terminal_safe("acme\x1b[2J\x1b]0;owned\x07 \rover\u202egnp.exe\tok\n")
    assert "\x1b" not in shown and "\r" not in shown and "\u202e" not in shown
    assert shown.endswith("\tok\n") and "\\r" in shown


def test_a_client_name_cannot_reach_the_file_system(
    wired: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("../../../../tmp/x", "a:gh", "\x1b[31mred", ".hidden"):
        assert cli.main(["--client", name, "jobs", "list"]) == 2
        err = capsys.readouterr().err
        assert "client name" in err and "\x1b" not in err and len(err.splitlines()) == 1


def test_an_integration_name_follows_the_slug_rule(
    wired: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("tok-123456\n"))
    add = ["integration", "add", "github", "--name", "gh:x", "--token-stdin", *wired]
    assert cli.main(add) == 2
    assert "integration name 'gh:x' is not allowed" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://user:pw@127.0.0.1:1", "must not contain credentials"),
        ("http://[::1", "not a valid URL"),
        ("ftp://example.com", "scheme 'ftp' is not supported"),
    ],
)
def test_a_bad_base_url_is_refused_at_once_with_one_line(
    url: str,
    says: str,
    wired: list[str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("tok-123456\n"))
    add = ["integration", "add", "jira", "--name", "j", "--data-center", "--token-stdin"]
    assert cli.main([*add, "--base-url", url, *wired]) == 1
    err = capsys.readouterr().err
    assert says in err and len(err.splitlines()) == 1 and "pw" not in err
    assert crash_reports(tmp_path) == []


def test_every_github_token_is_tested_and_a_bad_one_names_its_line(
    wired: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    org = Org(7, "tiny")
    sim = GitHubSimulator(org, tokens=(DEMO_GITHUB_TOKEN,))
    with SandboxServer({"github": sim.handle}) as server:
        monkeypatch.setattr("sys.stdin", io.StringIO(f"{DEMO_GITHUB_TOKEN}\n\nghp_not_valid\n"))
        add = ["integration", "add", "github", "--name", "gh", "--token-stdin",
               "--base-url", server.base_urls["github"], "--repo", "a/b", *wired]  # fmt: skip
        assert cli.main(add) == 1
    err = capsys.readouterr().err
    assert "not saved" in err and "token on line 3" in err


def test_a_config_file_that_is_not_utf8_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.toml"
    config.write_bytes(b'client = "caf\xe9"\n')
    assert cli.main(["--config", str(config), "config", "show"]) == 2
    assert "not UTF-8" in capsys.readouterr().err
    assert crash_reports(tmp_path) == []


def test_a_date_out_of_range_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.main(["metrics", "flow", "--since", "0001-01-01T00:00:00+14:00"])
    assert exit_.value.code == 2
    assert "out of the supported range" in capsys.readouterr().err


class ClosedPipe(io.StringIO):
    def write(self, text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")

    def fileno(self) -> int:
        return self._fd

    _fd = -1


def test_a_closed_stdout_ends_with_one_line_not_a_crash_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, isolated_home: Path
) -> None:
    import os

    read, write = os.pipe()
    os.close(read)
    pipe = ClosedPipe()
    pipe._fd = write
    monkeypatch.setattr("sys.stdout", pipe)
    err = io.StringIO()
    monkeypatch.setattr("sys.stderr", err)
    assert cli.main(["config", "show", "--json", "--data-dir", str(tmp_path)]) == 1
    assert "broken pipe" in err.getvalue() and len(err.getvalue().splitlines()) == 1
    assert crash_reports(tmp_path) == []
    os.close(write)


def test_a_read_only_command_never_creates_an_unknown_client(
    database: Database, wired: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["jobs", "list", *wired[:0], "--client", "typo"]) == 2
    assert "there is no client 'typo'" in capsys.readouterr().err
    with database.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM clients")).scalar_one() == 0


@pytest.mark.parametrize("command", [["worker"], []], ids=["worker", "console"])
def test_the_worker_and_the_console_never_create_an_unknown_client(
    command: list[str],
    database: Database,
    wired: list[str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_console(self: object) -> None:
        raise AssertionError("the console opened on a client that does not exist")

    monkeypatch.setattr("pulse_console.tui.app.PulseApp.run", no_console)
    assert cli.main([*command, *wired[2:], "--client", "typo"]) == 2
    err = capsys.readouterr().err
    assert "there is no client 'typo'" in err and len(err.strip().splitlines()) == 1
    with database.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM clients")).scalar_one() == 0


def test_a_worker_with_an_invalid_key_names_the_key(
    database: Database,
    wired: list[str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PULSE_ENCRYPTION_KEY", "not-a-fernet-key")
    monkeypatch.setattr("storage.secrets.usable_keyring_backend", lambda: None)
    assert cli.main(["worker", *wired]) == 1
    err = capsys.readouterr().err
    assert "not a valid Fernet key" in err and "No API token" not in err


def test_crash_reports_and_logs_are_private(tmp_path: Path) -> None:
    from pulse_console.files import PrivateRotatingFileHandler

    settings = load_settings(None, data_dir=tmp_path / "data")
    report = cli._write_crash_report(settings, RuntimeError("boom"))
    assert stat.S_IMODE(report.stat().st_mode) == 0o600
    assert stat.S_IMODE(report.parent.stat().st_mode) == 0o700
    handler = PrivateRotatingFileHandler(tmp_path / "data" / "jobs-x.jsonl", maxBytes=10)
    handler.stream.write("x" * 20)
    handler.doRollover()
    handler.close()
    for path in (tmp_path / "data").glob("jobs-x.jsonl*"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
