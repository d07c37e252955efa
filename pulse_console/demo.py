"""The demo: a sandbox organisation served locally and a `demo` client wired to it.

`pulse-console --demo` (what `make run` does) starts the Jira, GitHub and Aha! simulators on
a free 127.0.0.1 port in a background thread and points the demo client's integrations at
them, so the console has real APIs to sync from with no accounts. The demo's tokens are
the sandbox's public ones and go to the database-backed secret store (never the user's OS
keyring).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from connectors.sandbox import serve
from connectors.sandbox.aha import DEMO_AHA_KEY
from connectors.sandbox.credentials import DEMO_ADO_ORG, DEMO_ADO_PAT, DEMO_GITHUB_TOKEN, DEMO_JIRA
from connectors.sandbox.server import SandboxServer
from storage.db import Database
from storage.integrations import save_integration, secret_name
from storage.secrets import open_secret_store
from storage.tenancy import ensure_client

DEMO_CLIENT = "demo"
JIRA_NAME = "sandbox-jira"
GITHUB_NAME = "sandbox-github"
ADO_NAME = "sandbox-azure-devops"
AHA_NAME = "sandbox-aha"


@dataclass
class Demo:
    server: SandboxServer
    client: str
    client_id: int
    integration_ids: dict[str, int]

    def stop(self) -> None:
        self.server.stop()


def start_demo(
    database: Database,
    data_dir: Path,
    *,
    seed: int = 7,
    size: str = "small",
    scenario: Path | None = None,
    now_ms: int | None = None,
) -> Demo:
    """Serve the sandbox (optionally with a fault scenario: latency, errors…) and wire it.

    `now_ms` is where the organisation's history ends: `pulse-console --demo` passes the
    current minute, so the Metrics screen's last 30/90/180 days are full whatever today is;
    the default (the seed's fixed instant) keeps tests repeatable.
    """
    args = argparse.Namespace(seed=seed, size=size, host="127.0.0.1", port=0, scenario=scenario)
    server, org, _ = serve.build(args, now_ms=now_ms)
    server.start()
    urls = server.base_urls
    orgs = sorted({client.github_org for client in org.clients})
    with database.session() as session:
        client_id = ensure_client(session, DEMO_CLIENT, "Demo (sandbox)")
        wiring: tuple[tuple[str, str, str, dict[str, Any]], ...] = (
            (JIRA_NAME, "jira", urls["jira"], {"email": DEMO_JIRA.email}),
            (GITHUB_NAME, "github", urls["github"], {"orgs": orgs}),  # GitHubSyncConfig's key
            (ADO_NAME, "azure_devops", f"{urls['azure_devops']}/{DEMO_ADO_ORG}", {}),
            (AHA_NAME, "aha", urls["aha"], {}),
        )
        ids = {
            name: save_integration(
                session,
                client_id=client_id,
                name=name,
                type=kind,
                base_url=url,
                config=config,
            )
            for name, kind, url, config in wiring
        }
    secrets = open_secret_store(database.engine, data_dir, allow_keyring=False)
    for name, token in (
        (JIRA_NAME, DEMO_JIRA.api_token),
        (GITHUB_NAME, DEMO_GITHUB_TOKEN),
        (ADO_NAME, DEMO_ADO_PAT),
        (AHA_NAME, DEMO_AHA_KEY),
    ):
        secrets.set(secret_name(client_id, ids[name]), token)
    return Demo(server=server, client=DEMO_CLIENT, client_id=client_id, integration_ids=ids)
