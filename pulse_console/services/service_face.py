"""Everything the HTTP API asks for, bound once to one database (the API holds no SQL).

`ServiceFace` hands out, per request, the same objects the console and the CLI use: a
client's `ClientServices` (logs, log files, integrations, health, settings), its engine
service (`engine.service.PoolService`, attached: status, controls acted on as the caller's
login — runs deferred to the worker pool, stops and pauses carried to the worker that runs
the job — and the LISTEN/NOTIFY event feed the console follows), its past runs, its
metrics report, its operational counters, and tokens.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from pulse_console.config import Settings
from pulse_console.engine.service import EngineStatus, PoolService
from pulse_console.engine.status import RunSummary, get_run, list_runs
from pulse_console.metrics.settings import MetricsSettings
from pulse_console.pipelines.registry import PipelineRegistry, default_registry
from pulse_console.services import api_tokens, audit, connectivity, metrics_report, ops_metrics
from pulse_console.services.client_services import ClientServices
from pulse_console.services.settings import ConsoleSettings
from storage.db import Database
from storage.secrets import SecretStore
from storage.tenancy import require_client, require_visible_client


class ServiceFace:
    """The services of any client of one database, for callers that identify themselves."""

    def __init__(
        self,
        database: Database,
        settings: Settings,
        *,
        secrets: SecretStore | None = None,
        registry: PipelineRegistry | None = None,
        log_dir: Path | None = None,
        role: str | None = None,
    ) -> None:
        self.database = database
        self.role = role  # the token's PostgreSQL role this face acts as (None: the login)
        self.settings = settings
        self.secrets = secrets
        self.registry = registry or default_registry()
        self.log_dir = log_dir or settings.log_dir
        self._acting: dict[str, ServiceFace] = {}

    def acting(self, caller: api_tokens.Caller) -> ServiceFace:
        """The same services with every transaction run as the caller's PostgreSQL role
        (`Database.acting_as`): its GRANTs and row-level security apply, whatever the
        Python checks said. A token without a role (none yet) is refused."""
        if caller.db_role is None:
            raise api_tokens.TokenRefused(
                f"token {caller.name} has no database role: revoke it and create a new one"
            )
        face = self._acting.get(caller.db_role)
        if face is None:
            face = ServiceFace(
                self.database.acting_as(caller.db_role),
                self.settings,
                secrets=self.secrets,
                registry=self.registry,
                log_dir=self.log_dir,
                role=caller.db_role,
            )
            if len(self._acting) > 10_000:  # many tokens: forget them all, make them again
                self._acting.clear()
            self._acting[caller.db_role] = face
        return face

    def require_client(self, client: str) -> None:
        """UnknownClient (its one line) unless `client` exists; acting as a token,
        HiddenClient unless PostgreSQL lets the token's role see the client's rows."""
        with self.database.session() as session:
            if self.role is None:
                require_client(session, client)
            else:
                require_visible_client(session, client)

    def client(self, client: str, actor: str) -> ClientServices:
        return ClientServices(
            self.database,
            client,
            log_dir=self.log_dir,
            secrets=self.secrets,
            actor=actor,
            defaults=ConsoleSettings.from_config(self.settings),
            metrics_defaults=self._metrics_defaults(),
        )

    def engine(self, client: str, actor: str) -> PoolService:
        """The client's engine as an attached process sees it (UnknownClient if none;
        HiddenClient when acting as a token whose role may not see the client)."""
        if self.role is not None:
            self.require_client(client)
        return PoolService(self.database, self.settings, self.registry, client=client, actor=actor)

    def status(self, client: str, actor: str) -> EngineStatus:
        """The client's engine status, its jobs including those of integrations added
        since the orchestrator last looked (as `jobs list` shows them)."""
        service = self.engine(client, actor)
        service.ensure_jobs(self.registry.order)
        return service.status()

    def runs(self, client: str, job: str | None, limit: int) -> list[RunSummary]:
        return list_runs(self.database, client, job, limit)

    def run_detail(self, client: str, run_id: int) -> RunSummary | None:
        return get_run(self.database, client, run_id)

    def metrics(
        self,
        client: str,
        kind: metrics_report.Kind,
        *,
        since: datetime | None,
        until: datetime | None,
        **scope: str | None,
    ) -> dict[str, Any]:
        return metrics_report.report(
            self.database,
            client,
            kind,
            since=since,
            until=until,
            defaults=self._metrics_defaults(),
            **scope,
        )

    def ops(self, client: str, now: datetime) -> ops_metrics.OpsSnapshot:
        return ops_metrics.snapshot(self.database, client, now)

    def authenticate(self, token: str) -> api_tokens.Caller | None:
        return api_tokens.authenticate(self.database, token)

    def tokens_stamp(self) -> object:
        return api_tokens.stamp(self.database)

    def record(
        self, client: str, actor: str, action: str, target: str, details: dict[str, Any]
    ) -> None:
        """One audit row (the API's record of a write request)."""
        with self.database.session() as session:
            audit.record(session, client, actor, action, target, details)

    def ready(self) -> bool:
        """Does the database answer (for a load balancer: no detail)?"""
        try:
            return connectivity.ping(self.database) is None
        except Exception:
            return False

    def _metrics_defaults(self) -> MetricsSettings:
        return MetricsSettings(benchmark_year=self.settings.metrics.benchmark_year)
