"""Fuzzing what comes from outside: the CLI's arguments and config file, and every payload
model (random and truncated JSON). Each must end in one line (or a typed error), never a
crash report."""

from __future__ import annotations

import importlib
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

import connectors.aha.models as aha_models
import connectors.azure_devops.models as ado_models
import connectors.github.models as github_models
import connectors.jira.models as jira_models
from connectors.aha.models import AhaModel
from connectors.azure_devops.models import AdoModel
from connectors.github.models.base import GitHubModel
from connectors.jira.models.base import JiraModel
from pulse_console import cli
from pulse_console.commands import database as command_database
from storage.db import Database
from storage.testing import seed_tenant

FAST = settings(
    max_examples=int(__import__("os").environ.get("FUZZ_N", "40")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
WORDS = st.sampled_from(
    ["config", "show", "--json", "metrics", "flow", "--since", "--until", "--client", "db",
     "status", "jobs", "list", "integration", "add", "jira", "--base-url", "--name", "x",
     "0001-01-01", "9999-12-31T23:59:59-14:00", "http://[::1", "\x1b[31m", "../x", "--help"]
)  # fmt: skip


BASES = (JiraModel, GitHubModel, AdoModel, AhaModel)
# Every source's models: a package of modules (Jira, GitHub) or one module (ADO, Aha!).
MODEL_MODULES = (jira_models, github_models, ado_models, aha_models)


def _payload_models() -> list[type[BaseModel]]:
    models: list[type[BaseModel]] = []
    for package in MODEL_MODULES:
        modules = [package]
        if hasattr(package, "__path__"):
            modules += [
                importlib.import_module(f"{package.__name__}.{info.name}")
                for info in pkgutil.iter_modules(package.__path__)
            ]
        for module in modules:
            for value in vars(module).values():
                if isinstance(value, type) and issubclass(value, BASES) and value not in BASES:
                    models.append(value)
    return sorted(set(models), key=lambda m: f"{m.__module__}.{m.__qualname__}")


MODELS = _payload_models()
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=20,
)


def _no_crash_report(home: Path) -> None:
    assert list(home.rglob("crash-*.txt")) == []


@FAST
@given(argv=st.lists(WORDS | st.text(max_size=12), max_size=6))
def test_any_arguments_end_in_a_usage_error_or_one_line(
    argv: list[str], isolated_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if not argv or argv[0] not in ("config", "metrics", "db"):
        argv = ["config", "show", *argv]  # commands that need no database or network
    if "db" in argv[:1] or "metrics" in argv[:1]:
        argv = ["config", "show", *argv[1:]]
    try:
        code = cli.main([*argv, "--data-dir", str(isolated_home / "d")])
    except SystemExit as exit_:  # argparse: usage and one line, exit 0 (help) or 2
        code = int(exit_.code or 0)
    err = capsys.readouterr().err
    assert code in (0, 1, 2)
    assert "Traceback" not in err and "unexpected error" not in err
    _no_crash_report(isolated_home)


@FAST
@given(content=st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_any_config_file_is_accepted_or_refused_in_one_line(
    content: bytes, isolated_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = isolated_home / "config.toml"
    config.write_bytes(content)
    code = cli.main(["--config", str(config), "config", "show", "--json"])
    err = capsys.readouterr().err
    assert code in (0, 2)
    if code:
        assert len(err.strip().splitlines()) == 1 and "unexpected error" not in err
    _no_crash_report(isolated_home)


def test_the_fuzzed_models_cover_every_source() -> None:
    sources = {model.__module__.split(".")[1] for model in MODELS}
    assert sources == {"jira", "github", "azure_devops", "aha"}


# Printable to capsys' strict UTF-8 stream; undecodable argv bytes are tested in a real process.
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)


@pytest.mark.parametrize(
    "argv", [[b"--client", b"\xff", b"jobs", b"list"], [b"config", b"show", b"\xff"]]
)
def test_undecodable_argument_bytes_end_in_one_line(argv: list[bytes], tmp_path: Path) -> None:
    program = Path(sys.executable).parent / "pulse-console"
    done = subprocess.run(
        [program, b"--data-dir", str(tmp_path).encode(), *argv],
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert b"Traceback" not in done.stderr and b"unexpected error" not in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith(b"pulse-console: error:")
    _no_crash_report(tmp_path)


# Read-only commands that touch the database; the words after them are anything at all.
DB_COMMANDS = st.sampled_from(
    [["jobs", "list"], ["orchestrator", "status"], ["metrics", "dora"], ["metrics", "flow"],
     ["metrics", "prs"], ["integration", "list"], ["db", "status"], ["config", "show"]]
)  # fmt: skip
DB_WORDS = st.sampled_from(
    ["--since", "--until", "--client", "--json", "--format", "csv", "json", "table", "--project",
     "--repository", "--release", "--goal", "--help", "acme", "typo", "2026-01-01",
     "0001-01-01", "9999-12-31T23:59:59-14:00", "1e400", "-1", "\x00", "\x1b[2J", "../x",
     "'; DROP TABLE clients; --", "%", "_", "\\"]
)  # fmt: skip


@pytest.fixture
def acme_cli(database: Database, monkeypatch: pytest.MonkeyPatch) -> Database:
    """The CLI on the test database with client `acme` (seeded once for all examples)."""
    seed_tenant(database.engine)
    monkeypatch.setattr(
        command_database, "open_configured", lambda settings, upgrade_embedded=True: database
    )
    return database


@FAST
@given(command=DB_COMMANDS, rest=st.lists(DB_WORDS | TEXT, max_size=6))
def test_any_arguments_to_a_database_command_end_in_a_usage_error_or_one_line(
    command: list[str],
    rest: list[str],
    acme_cli: Database,
    isolated_home: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    try:
        code = cli.main(
            [*command, *rest, "--client", "acme", "--data-dir", str(isolated_home / "d")]
        )
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    err = capsys.readouterr().err
    assert code in (0, 1, 2), err
    assert "Traceback" not in err and "unexpected error" not in err, err
    if code == 1:
        assert len(err.strip().splitlines()) == 1, err
    _no_crash_report(isolated_home)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: f"{m.__module__}.{m.__qualname__}")
@settings(max_examples=15, deadline=None)
@given(data=JSON, cut=st.integers(min_value=0, max_value=200))
def test_every_payload_model_refuses_random_and_truncated_json_with_a_typed_error(
    model: type[BaseModel], data: object, cut: int
) -> None:
    raw = json.dumps(data)
    for text in (raw, raw[:cut]):
        try:
            model.model_validate_json(text)
        except ValidationError as exc:  # typed, and its summary is one line
            assert str(exc).splitlines()[0]
