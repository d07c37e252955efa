"""The demo wires a `demo` client to a live local sandbox whose APIs answer its credentials."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from pulse_console.demo import AHA_NAME, GITHUB_NAME, JIRA_NAME, start_demo
from storage.db import Database
from storage.integrations import list_integrations, secret_name
from storage.secrets import open_secret_store


def test_demo_configures_integrations_that_reach_the_sandbox(
    database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PULSE_ENCRYPTION_KEY", raising=False)
    demo = start_demo(database, tmp_path, size="tiny")
    try:
        with database.session() as session:
            integrations = {i.name: i for i in list_integrations(session, demo.client_id)}
        assert set(integrations) == {JIRA_NAME, GITHUB_NAME, AHA_NAME}
        store = open_secret_store(database.engine, tmp_path, allow_keyring=False)
        jira, github = integrations[JIRA_NAME], integrations[GITHUB_NAME]
        token = store.get(secret_name(demo.client_id, jira.id))
        assert token is not None
        me = httpx.get(
            f"{jira.base_url}/rest/api/3/myself", auth=(jira.config["email"], token), timeout=10
        )
        assert me.status_code == 200
        gh_token = store.get(secret_name(demo.client_id, github.id))
        viewer = httpx.post(
            f"{github.base_url}/graphql",
            json={"query": "{ viewer { login } }"},
            headers={"Authorization": f"bearer {gh_token}"},
            timeout=10,
        )
        assert viewer.status_code == 200 and viewer.json()["data"]["viewer"]["login"]
        aha_key = store.get(secret_name(demo.client_id, integrations[AHA_NAME].id))
        products = httpx.get(
            f"{integrations[AHA_NAME].base_url}/api/v1/products",
            headers={"Authorization": f"Bearer {aha_key}"},
            timeout=10,
        )
        assert products.status_code == 200 and products.json()["products"]
    finally:
        demo.stop()
    # A second start (the next `make run`) updates the same rows rather than adding more.
    again = start_demo(database, tmp_path, size="tiny")
    again.stop()
    with database.session() as session:
        assert len(list_integrations(session, again.client_id)) == 3
