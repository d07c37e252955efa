"""Shared fixtures: a real PostgreSQL, and a fresh schema per test so tests never share rows."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from storage.db import Database
from storage.testing import find_test_server, scratch_schema, seed_tenant

# Snapshot and TUI tests must not depend on the developer's own setup.
os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")
os.environ.setdefault("TZ", "UTC")
_KEEP = {"PULSE_TEST_DATABASE_URL", "PULSE_FIXTURES"}
# The crash tests' trial counts (PULSE_JIRA_CRASH_TRIALS=20 …) are the test run's own setting.
for _name in [
    n
    for n in os.environ
    if n.startswith("PULSE_") and n not in _KEEP and not n.endswith("_CRASH_TRIALS")
]:
    del os.environ[_name]


@pytest.fixture(scope="session")
def pg_url() -> str:
    return find_test_server()


@pytest.fixture
def engine(pg_url: str) -> Iterator[Engine]:
    """An engine on a freshly migrated schema of its own."""
    with scratch_schema(pg_url) as eng:
        yield eng


@pytest.fixture
def empty_engine(pg_url: str) -> Iterator[Engine]:
    """An engine on an empty schema (no migrations applied)."""
    with scratch_schema(pg_url, migrated=False) as eng:
        yield eng


@pytest.fixture
def database(engine: Engine) -> Database:
    return Database(engine=engine, embedded=False)


@pytest.fixture
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the user config and data dirs at a temp dir."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    return tmp_path


@pytest.fixture
def tenant(engine: Engine) -> Engine:
    """A migrated schema with client 1 (`acme`) and its Jira integration 1."""
    seed_tenant(engine)
    return engine
