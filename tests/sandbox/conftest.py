from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.sandbox.credentials import DEMO_JIRA
from connectors.sandbox.jira import JiraSimulator
from connectors.sandbox.org import Org

FIXTURES = Path("/work/shared/fixtures")


@pytest.fixture(scope="session")
def small_org_readonly() -> Org:
    """Shared by tests that never mutate it."""
    return Org(7, "small")


@pytest.fixture
def jira(small_org_readonly: Org) -> Iterator[httpx.Client]:
    sim = JiraSimulator(small_org_readonly, DEMO_JIRA)
    with jira_client(sim) as client:
        yield client


def jira_client(sim: JiraSimulator) -> httpx.Client:
    return httpx.Client(
        transport=httpx.MockTransport(sim.handle),
        base_url="https://sandbox.atlassian.net",
        auth=(DEMO_JIRA.email, DEMO_JIRA.api_token),
    )


def example(name: str) -> Any:
    return json.loads((FIXTURES / "api_examples/jira_openapi_examples" / name).read_text())


def devlake_rows(name: str) -> list[dict[str, Any]]:
    csv.field_size_limit(1 << 30)
    path = FIXTURES / "devlake/jira/e2e/raw_tables" / name
    with path.open(encoding="utf-8") as fh:
        return [json.loads(row["data"]) for row in csv.DictReader(fh)]


def all_keys(rows: list[dict[str, Any]]) -> set[str]:
    return {k for row in rows for k in row}
