"""Building a `RunContext` outside the engine (the `sync` command, tests, benchmarks).

The engine builds its own contexts; this helper does the same for a foreground run: it finds
the client and integration rows, reads the token from the secret store under the standard
name, and wires a cancel token, a progress callback and a logger.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import select

from connectors.http.cancel import CancelToken
from pulse_console.pipelines.base import IntegrationRef, Progress, RunContext
from storage.db import Database
from storage.integrations import secret_name as integration_secret_name
from storage.models import Integration
from storage.secrets import SecretStore
from storage.tenancy import find_client


class IntegrationNotFound(LookupError):
    """No integration of that name for the client; `str()` says how to add one."""


def find_integration(database: Database, client: str, name: str) -> tuple[int, IntegrationRef]:
    """The client id and the integration `name` of client `client`."""
    with database.session() as session:
        client_id = find_client(session, client)
        row = (
            None
            if client_id is None
            else session.execute(
                select(Integration).where(
                    Integration.client_id == client_id, Integration.name == name
                )
            ).scalar_one_or_none()
        )
        if client_id is None or row is None:
            raise IntegrationNotFound(
                f"client {client!r} has no integration named {name!r}; add it with "
                "`pulse-console integration add <type> --name …`"
                " (types: jira, github, azure_devops, aha)"
            )
        ref = IntegrationRef(
            id=row.id,
            name=row.name,
            type=row.type,
            base_url=row.base_url,
            config=dict(row.config or {}),
        )
        return client_id, ref


def local_run_context(
    database: Database,
    secrets: SecretStore,
    client: str,
    integration: str,
    *,
    report: Callable[[Progress], None] | None = None,
    cancel: CancelToken | None = None,
    log: logging.Logger | None = None,
    run_id: int = 0,
    clock: Callable[[], datetime] | None = None,
) -> RunContext:
    """A context for running a pipeline in this process against integration `integration`.

    `run_id` 0 means "not recorded in job_runs" (foreground runs outside the engine).
    """
    client_id, ref = find_integration(database, client, integration)
    secret_name = integration_secret_name(client_id, ref.id)

    def secret(name: str) -> str | None:
        # A pipeline may ask only for its own integration's secret.
        return secrets.get(name) if name == secret_name else None

    return RunContext(
        client_id=client_id,
        client=client,
        integration=ref,
        database=database,
        run_id=run_id,
        cancel=cancel or CancelToken(),
        report=report or (lambda progress: None),
        log=log or logging.getLogger(f"pulse_console.pipelines.{ref.type}"),
        secret=secret,
        clock=clock or (lambda: datetime.now(UTC)),
    )


def token_secret_name(ctx: RunContext) -> str:
    """The secret-store name of the run's integration token (the only secret it may read)."""
    return integration_secret_name(ctx.client_id, ctx.integration.id)
