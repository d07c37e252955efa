from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from pulse_console.config import Settings
from pulse_console.engine import store
from pulse_console.engine.clock import FakeClock
from storage.db import Database
from storage.models import Integration
from storage.tenancy import ensure_client

T0 = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)


@pytest.fixture
def suite_login() -> str:
    """This suite runs as a non-owner login under row-level security (tests/conftest.py)."""
    return "app"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(client="acme", data_dir=tmp_path / "data")


def add_jobs(database: Database, client: str, names: list[str]) -> dict[str, int]:
    """Create the client, one integration per job (named after it) and the jobs, in this
    chain order."""
    ids: dict[str, int] = {}
    with database.session() as session:
        client_id = ensure_client(session, client)
        for position, name in enumerate(names, start=1):
            # its own type, so a test registers the job's scripted pipeline under its name
            integration = Integration(
                client_id=client_id, name=name, type=name, base_url="http://sbx"
            )
            session.add(integration)
            session.flush()
            store.ensure_job(
                session, client_id, name, position=position * 10, integration_id=integration.id
            )
            ids[name] = integration.id
    return ids
