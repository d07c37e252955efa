"""Shared fixtures: a real PostgreSQL, and a schema per test so tests never share rows
(emptied and reused by the next test unless the test changed its definition).

`engine` is logged in as the schema's owner, or, where `test_login` says "app", as a login
of its own that is an admin and a worker but not the owner and not a member of every
client (so row-level security and the GRANTs of migration 0013 are exercised by ordinary
tests: it sees the clients it creates). The engine, metrics, pipelines and services suites
run as "app"; the environment variable PULSE_TEST_LOGIN=app|owner makes every suite run
so; a test marked `@pytest.mark.owner` always runs as the owner.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, make_url

from connectors.http.gate import forget_gates
from storage.db import Database, make_engine
from storage.testing import (
    fallback_note,
    find_test_server,
    reused_schema,
    scratch_login,
    scratch_schema,
    search_path_of,
    seed_tenant,
)
from tests.tcp_proxy import TcpProxy

# Snapshot and TUI tests must not depend on the developer's own setup.
os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")
os.environ.setdefault("TZ", "UTC")
_KEEP = {"PULSE_TEST_DATABASE_URL", "PULSE_FIXTURES", "PULSE_TEST_LOGIN"}
# The crash tests' trial counts (PULSE_JIRA_CRASH_TRIALS=20 …) are the test run's own setting.
for _name in [
    n
    for n in os.environ
    if n.startswith("PULSE_") and n not in _KEEP and not n.endswith("_CRASH_TRIALS")
]:
    del os.environ[_name]


@pytest.fixture(scope="session")
def pg_url() -> str:
    url = find_test_server()
    note = fallback_note()
    if note and os.environ.get("CI"):
        pytest.fail(f"{note}; CI must test its own server", pytrace=False)
    if note:
        warnings.warn(note, pytest.PytestWarning, stacklevel=1)  # in the warnings summary
    return url


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "owner: run as the schema's owner even where the suite runs as a login"
    )


@pytest.fixture
def suite_login() -> str:
    """Who a suite's tests are by default: "owner" here, "app" in the suites that override."""
    return "owner"


@pytest.fixture
def test_login(request: pytest.FixtureRequest, suite_login: str) -> str:
    if request.node.get_closest_marker("owner"):
        return "owner"
    return os.environ.get("PULSE_TEST_LOGIN") or suite_login


@pytest.fixture
def engine(pg_url: str, test_login: str) -> Iterator[Engine]:
    """An engine on a migrated schema of its own, with no rows (as `test_login` says)."""
    with reused_schema(pg_url) as eng:
        if test_login == "owner":
            yield eng
            return
        with scratch_login(eng, "admin", also=("pulse_worker",)) as app:
            yield app


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


@pytest.fixture(autouse=True)
def _fresh_rate_gates() -> Iterator[None]:
    """Each test is a process of its own for the accounts' shared rate gates: a back-off one
    test earned never holds up the next."""
    yield
    forget_gates()


@pytest.fixture
def proxy(pg_url: str) -> Iterator[TcpProxy]:
    """A TCP proxy in front of the test server that the test can cut and restore."""
    url = make_url(pg_url)
    if not url.host:
        pytest.skip("the proxy needs PostgreSQL on TCP, not a Unix socket")
    running = TcpProxy((url.host, url.port or 5432))
    try:
        yield running
    finally:
        running.close()


@pytest.fixture
def proxied(pg_url: str, engine: Engine, proxy: TcpProxy) -> Iterator[Database]:
    """The test's schema, reached through the proxy (as the server's own user)."""
    url = make_url(pg_url).set(host="127.0.0.1", port=proxy.port)
    through = make_engine(url, schema=search_path_of(engine), pool_size=2)
    try:
        yield Database(engine=through, embedded=False)
    finally:
        through.dispose()
