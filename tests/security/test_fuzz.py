"""Fuzzing what comes from outside: the CLI's arguments and config file, and every payload
model (random and truncated JSON). Each must end in one line (or a typed error), never a
crash report."""

from __future__ import annotations

import importlib
import json
import pkgutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

import connectors.github.models as github_models
import connectors.jira.models as jira_models
from connectors.github.models.base import GitHubModel
from connectors.jira.models.base import JiraModel
from pulse_console import cli

FAST = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
WORDS = st.sampled_from(
    ["config", "show", "--json", "metrics", "flow", "--since", "--until", "--client", "db",
     "status", "jobs", "list", "integration", "add", "jira", "--base-url", "--name", "x",
     "0001-01-01", "9999-12-31T23:59:59-14:00", "http://[::1", "\x1b[31m", "../x", "--help"]
)  # fmt: skip


def _payload_models() -> list[type[BaseModel]]:
    models: list[type[BaseModel]] = []
    for package in (jira_models, github_models):
        for info in pkgutil.iter_modules(package.__path__):
            module = importlib.import_module(f"{package.__name__}.{info.name}")
            for value in vars(module).values():
                if (
                    isinstance(value, type)
                    and issubclass(value, (JiraModel, GitHubModel))
                    and value not in (JiraModel, GitHubModel)
                ):
                    models.append(value)
    return sorted(set(models), key=lambda m: m.__qualname__)


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


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__qualname__)
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
