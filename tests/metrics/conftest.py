from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Connection, Engine

from tests.metrics.seed import Seeder


@pytest.fixture
def suite_login() -> str:
    """This suite runs as a non-owner login under row-level security (tests/conftest.py)."""
    return "app"


@pytest.fixture
def conn(tenant: Engine) -> Iterator[Connection]:
    """One connection on the tenant's schema; each test commits nothing it does not need."""
    with tenant.connect() as connection:
        yield connection
        connection.rollback()


@pytest.fixture
def seed(conn: Connection) -> Seeder:
    return Seeder(conn)
