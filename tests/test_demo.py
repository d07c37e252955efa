"""The demo wires a `demo` client to a live local sandbox whose APIs answer its credentials."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from pulse_console.commands.sources import SOURCES
from pulse_console.demo import ADO_NAME, AHA_NAME, DEMO_CLIENT, GITHUB_NAME, JIRA_NAME, start_demo
from pulse_console.pipelines.context import local_run_context
from pulse_console.services import metrics
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
        assert set(integrations) == {JIRA_NAME, GITHUB_NAME, ADO_NAME, AHA_NAME}
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
        ado = integrations[ADO_NAME]
        pat = store.get(secret_name(demo.client_id, ado.id))
        projects = httpx.get(
            f"{ado.base_url}/_apis/projects",
            params={"api-version": "7.1"},
            auth=("", pat or ""),
            timeout=10,
        )
        assert projects.status_code == 200 and projects.json()["value"]
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
        assert len(list_integrations(session, again.client_id)) == 4


def test_the_demo_history_ends_now_so_the_last_30_days_have_dora_figures(
    database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PULSE_ENCRYPTION_KEY", raising=False)
    now = datetime.now(UTC).replace(second=0, microsecond=0)  # as `--demo` anchors it
    demo = start_demo(database, tmp_path, size="tiny", now_ms=int(now.timestamp() * 1000))
    try:
        secrets = open_secret_store(database.engine, tmp_path, allow_keyring=False)
        for name in (JIRA_NAME, GITHUB_NAME):
            ctx = local_run_context(database, secrets, DEMO_CLIENT, name)
            SOURCES[ctx.integration.type].pipeline(False).run(ctx)
    finally:
        demo.stop()
    view = metrics.load(database, DEMO_CLIENT, metrics.MetricsQuery(days=30), now=now)
    assert view.dora is not None and view.flow is not None
    assert view.dora.deployments > 0
    assert view.dora.lead_time_for_changes.value is not None
    assert view.flow.summary.flow_efficiency is not None
    assert view.flow.summary.flow_efficiency < 1  # To Do is proposed as a waiting step
