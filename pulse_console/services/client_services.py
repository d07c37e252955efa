"""Every console service bound once to one database, client and operator.

The service modules beside this one are plain functions that take the database and the
client first (tests call them that way). The console builds one `ClientServices` when it
starts and hands it to its screens, which then ask `services.logs.page(...)` or
`services.flow.add_step(...)`: no screen holds the database, the secret store or the actor,
and the TUI imports nothing from `storage`. Each area is a small class of one-line
delegations; what a method adds is only the arguments it binds (and, for integrations, the
one refusal when no secret store is configured).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from connectors.base import ConnectionCheck
from pulse_console.engine.pool_view import WorkerView, list_workers
from pulse_console.metrics.settings import MetricsSettings
from pulse_console.services import audit as audit_service
from pulse_console.services import clients as clients_service
from pulse_console.services import connectivity, flow_mappings, health, integrations
from pulse_console.services import log_files as log_files_service
from pulse_console.services import logs as logs_service
from pulse_console.services import metrics as metrics_service
from pulse_console.services import settings as settings_service
from pulse_console.services.audit import AuditEntry, AuditQuery
from pulse_console.services.clients import ClientInfo
from pulse_console.services.flow_mappings import FlowMappings, MappingImpact, StepImpact
from pulse_console.services.health import HealthCheck
from pulse_console.services.integrations import IntegrationDraft, IntegrationView
from pulse_console.services.log_files import LogFileInfo
from pulse_console.services.logs import Cursor, LogFilter, LogPage, LogRecord
from pulse_console.services.metrics import DrillDown, MetricsQuery, MetricsView, Target
from pulse_console.services.settings import ConsoleSettings
from storage.db import Database
from storage.secrets import SecretStore

NO_SECRETS = "No secret store is available: set PULSE_ENCRYPTION_KEY."


class ClientServices:
    """The services of one client's console session (built once, shared by every screen)."""

    def __init__(
        self,
        database: Database,
        client: str,
        *,
        log_dir: Path,
        secrets: SecretStore | None = None,
        actor: str = "console",
        defaults: ConsoleSettings | None = None,
        metrics_defaults: MetricsSettings | None = None,
    ) -> None:
        self.database = database
        self.client = client
        self.log_dir = log_dir
        self.secrets = secrets
        self.actor = actor
        self.defaults = defaults or ConsoleSettings()
        self.metrics_defaults = metrics_defaults  # config.toml's [metrics]
        self.logs = LogsServices(self)
        self.log_files = LogFilesServices(self)
        self.flow = FlowServices(self)
        self.integrations = IntegrationsServices(self)
        self.health = HealthServices(self)
        self.settings = SettingsServices(self)
        self.metrics = MetricsServices(self)
        self.audit = AuditServices(self)
        self.clients = ClientsServices(self)
        self.workers = WorkersServices(self)

    @property
    def database_label(self) -> str:
        return self.database.label

    def ping(self) -> str | None:
        """None when the database answers, else why not (see `connectivity.ping`)."""
        return connectivity.ping(self.database)


class _Area:
    def __init__(self, bound: ClientServices) -> None:
        self._s = bound


class LogsServices(_Area):
    def page(
        self,
        flt: LogFilter,
        *,
        before: Cursor | None = None,
        after: Cursor | None = None,
        at: datetime | None = None,
        limit: int = 200,
    ) -> LogPage:
        """Records from `at` on, the page before/after a cursor, or else the newest page."""
        db, client = self._s.database, self._s.client
        if at is not None:
            return logs_service.at_time(db, client, flt, at, limit)
        if before is not None:
            return logs_service.older(db, client, flt, before, limit)
        if after is not None:
            return logs_service.newer(db, client, flt, after, limit)
        return logs_service.latest(db, client, flt, limit)

    def count_newer(self, flt: LogFilter, cursor: Cursor) -> int:
        return logs_service.count_newer(self._s.database, self._s.client, flt, cursor)

    def detail(self, record_id: int) -> LogRecord | None:
        return logs_service.detail(self._s.database, self._s.client, record_id)

    def export_zip(self, flt: LogFilter, dest: Path) -> int:
        s = self._s
        return logs_service.export_zip(s.database, s.client, flt, dest, actor=s.actor)


class LogFilesServices(_Area):
    def list_files(self) -> list[LogFileInfo]:
        return log_files_service.list_files(self._s.log_dir, self._s.client)

    def older_than(self, days: int, now: datetime) -> list[LogFileInfo]:
        return log_files_service.older_than(self._s.log_dir, self._s.client, days, now)

    def export_zip(self, files: Iterable[Path], dest: Path) -> int:
        s = self._s
        return log_files_service.export_zip(
            s.database, s.client, s.log_dir, files, dest, actor=s.actor
        )

    def delete(self, path: Path) -> None:
        s = self._s
        log_files_service.delete_file(s.database, s.client, s.log_dir, path, actor=s.actor)

    def clear(self, path: Path) -> None:
        s = self._s
        log_files_service.clear_file(s.database, s.client, s.log_dir, path, actor=s.actor)

    def delete_older_than(self, days: int, now: datetime) -> list[str]:
        s = self._s
        return log_files_service.delete_older_than(
            s.database, s.client, s.log_dir, days, now, actor=s.actor
        )


class FlowServices(_Area):
    def load(self) -> FlowMappings:
        return flow_mappings.load(self._s.database, self._s.client)

    def add_step(self, name: str, category: str) -> int:
        s = self._s
        return flow_mappings.add_step(s.database, s.client, name, category, actor=s.actor)

    def map_status(self, status_name: str, step_id: int) -> int:
        s = self._s
        return flow_mappings.map_status(s.database, s.client, status_name, step_id, actor=s.actor)

    def unmap_status(self, mapping_id: int) -> None:
        s = self._s
        flow_mappings.unmap_status(s.database, s.client, mapping_id, actor=s.actor)

    def map_issue_type(self, issue_type: str, kind: str) -> int:
        s = self._s
        return flow_mappings.map_issue_type(s.database, s.client, issue_type, kind, actor=s.actor)

    def issue_type_impact(self, mapping_id: int) -> MappingImpact:
        return flow_mappings.issue_type_impact(self._s.database, self._s.client, mapping_id)

    def status_mapping_impact(self, mapping_id: int) -> MappingImpact:
        return flow_mappings.status_mapping_impact(self._s.database, self._s.client, mapping_id)

    def remap_status(self, mapping_id: int, step_id: int) -> None:
        s = self._s
        flow_mappings.remap_status(s.database, s.client, mapping_id, step_id, actor=s.actor)

    def set_issue_type_kind(self, mapping_id: int, kind: str) -> None:
        s = self._s
        flow_mappings.set_issue_type_kind(s.database, s.client, mapping_id, kind, actor=s.actor)

    def unmap_issue_type(self, mapping_id: int) -> str:
        s = self._s
        return flow_mappings.unmap_issue_type(s.database, s.client, mapping_id, actor=s.actor)

    def step_impact(self, step_id: int) -> StepImpact:
        return flow_mappings.step_impact(self._s.database, self._s.client, step_id)

    def delete_step(self, step_id: int, reassign_to: int | None) -> int:
        s = self._s
        return flow_mappings.delete_step(s.database, s.client, step_id, reassign_to, actor=s.actor)

    def validation_problems(self) -> list[str]:
        return flow_mappings.validation_problems(self._s.database, self._s.client)


class IntegrationsServices(_Area):
    def list_integrations(self) -> list[IntegrationView]:
        return integrations.list_integrations(self._s.database, self._s.client, self._s.secrets)

    def stored_token(self, name: str) -> str | None:
        """The saved token of `name`, or None (also when no secret store is configured)."""
        s = self._s
        if s.secrets is None:
            return None
        return integrations.stored_token(s.database, s.client, name, s.secrets)

    def save(self, draft: IntegrationDraft, check: ConnectionCheck | None = None) -> int:
        s = self._s
        secrets = self._secrets()
        return integrations.save(s.database, s.client, draft, secrets, actor=s.actor, check=check)

    def check_saved(self, integration_id: int) -> ConnectionCheck:
        s = self._s
        return integrations.check_saved(s.database, s.client, integration_id, self._secrets())

    def check_all_active(self) -> int:
        """Test every active integration's API now (results are recorded); how many."""
        secrets = self._secrets()
        tested = 0
        for item in integrations.list_integrations(self._s.database, self._s.client):
            if item.active:
                integrations.check_saved(self._s.database, self._s.client, item.id, secrets)
                tested += 1
        return tested

    def set_active(self, integration_id: int, active: bool) -> None:
        s = self._s
        integrations.set_active(s.database, s.client, integration_id, active, actor=s.actor)

    def _secrets(self) -> SecretStore:
        if self._s.secrets is None:
            raise RuntimeError(NO_SECRETS)
        return self._s.secrets


class HealthServices(_Area):
    def report(self, now: datetime) -> list[HealthCheck]:
        return health.report(self._s.database, self._s.client, self._s.log_dir, now)


class SettingsServices(_Area):
    def load(self) -> ConsoleSettings:
        return settings_service.load(self._s.database, self._s.client, self._s.defaults)

    def save(self, new: ConsoleSettings) -> list[str]:
        s = self._s
        return settings_service.save(s.database, s.client, new, s.defaults, actor=s.actor)


class MetricsServices(_Area):
    def load(self, query: MetricsQuery, *, now: datetime) -> MetricsView:
        s = self._s
        return metrics_service.load(
            s.database, s.client, query, now=now, defaults=s.metrics_defaults
        )

    def drill_down(
        self,
        query: MetricsQuery,
        target: Target,
        *,
        now: datetime,
        step_id: int | None = None,
        title: str = "",
    ) -> DrillDown:
        return metrics_service.drill_down(
            self._s.database,
            self._s.client,
            query,
            target,
            now=now,
            step_id=step_id,
            title=title,
            defaults=self._s.metrics_defaults,
        )


class AuditServices(_Area):
    def search(self, query: AuditQuery) -> list[AuditEntry]:
        return audit_service.search(self._s.database, self._s.client, query)


class ClientsServices(_Area):
    def list_clients(self) -> list[ClientInfo]:
        return clients_service.list_clients(self._s.database)


class WorkersServices(_Area):
    def list_workers(self, stall_seconds: float = 30.0) -> list[WorkerView]:
        """The pool's workers with their heartbeats and the runs (of visible clients) they hold."""
        return list_workers(self._s.database, stall_seconds)
