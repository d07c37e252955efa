"""The canonical schema: SQLAlchemy 2 typed models.

Table and column names are the analysts' public contract (DESIGN.md, "Canonical schema"):
never rename one. Every row carries `client_id`; source records are unique per
(client_id, integration_id, external_id) so every load is an idempotent upsert. Times are
timezone-aware UTC. The schema changes only through Alembic migrations in
`storage/migrations/`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Computed,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Deterministic constraint names keep migrations reviewable and reversible.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Json = dict[str, Any]


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        datetime: DateTime(timezone=True),
        Json: JSONB,
        int: Integer,
        str: Text,
    }


def _pk() -> Mapped[int]:
    return mapped_column(BigInteger, primary_key=True, autoincrement=True)


def _client_fk(nullable: bool = False) -> Mapped[Any]:
    # No index of its own: every table's natural key or main index leads with client_id.
    return mapped_column(
        BigInteger, ForeignKey("clients.id", ondelete="CASCADE"), nullable=nullable
    )


def _integration_fk() -> Mapped[int]:
    return mapped_column(BigInteger, ForeignKey("integrations.id", ondelete="CASCADE"))


def _bulk_client() -> Mapped[int]:
    # Bulk-loaded fact tables skip the per-row foreign-key trigger on client/integration:
    # it cost a third of every upsert (measured, benchmarks/bench_load.py). Removing a
    # client or integration deletes its rows explicitly (storage.tenancy).
    return mapped_column(BigInteger)


def _bulk_integration() -> Mapped[int]:
    return mapped_column(BigInteger)


def _created() -> Mapped[datetime]:
    return mapped_column(server_default=func.now())


# --- tenancy, configuration, operations -------------------------------------------------


class Client(Base):
    """A tenant: everything else hangs off one client."""

    __tablename__ = "clients"
    id: Mapped[int] = _pk()
    name: Mapped[str] = mapped_column(String(100), unique=True)
    display_name: Mapped[str | None]
    active: Mapped[bool] = mapped_column(server_default=text("true"))
    created_at: Mapped[datetime] = _created()


class Integration(Base):
    """A connection to one source system; its token lives in the secret store, not here."""

    __tablename__ = "integrations"
    __table_args__ = (UniqueConstraint("client_id", "name"),)
    id: Mapped[int] = _pk()
    client_id: Mapped[int] = _client_fk()
    name: Mapped[str] = mapped_column(String(100))
    type: Mapped[str] = mapped_column(String(32))
    base_url: Mapped[str]
    config: Mapped[Json] = mapped_column(server_default=text("'{}'::jsonb"))
    secret_ref: Mapped[str | None]
    active: Mapped[bool] = mapped_column(server_default=text("true"))
    last_test_at: Mapped[datetime | None]
    last_test_ok: Mapped[bool | None]
    last_test_message: Mapped[str | None]
    last_sync_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _created()


class Job(Base):
    """One job of a client's chain; `status` follows the state machine in engine/."""

    __tablename__ = "jobs"
    __table_args__ = (UniqueConstraint("client_id", "name"),)
    id: Mapped[int] = _pk()
    client_id: Mapped[int] = _client_fk()
    name: Mapped[str] = mapped_column(String(100))  # its integration's name
    integration_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("integrations.id", ondelete="SET NULL")
    )
    position: Mapped[int] = mapped_column(server_default=text("0"))
    status: Mapped[str] = mapped_column(String(16), server_default=text("'PENDING'"))
    status_reason: Mapped[str | None]
    retry_count: Mapped[int] = mapped_column(server_default=text("0"))
    cancel_requested: Mapped[bool] = mapped_column(server_default=text("false"))
    # stop | pause requested of the running run (the engine's abort carries it to the
    # worker); who asked is stamped by the database from session_user (migration 0019).
    cancel_intent: Mapped[str | None] = mapped_column(String(16))
    cancel_requested_login: Mapped[str | None]
    last_run_at: Mapped[datetime | None]
    next_run_at: Mapped[datetime | None]
    parked_until: Mapped[datetime | None]
    checkpoint: Mapped[Json] = mapped_column(server_default=text("'{}'::jsonb"))
    updated_at: Mapped[datetime] = _created()


class JobRun(Base):
    """One execution of a job, with what it did and where it left its checkpoint."""

    __tablename__ = "job_runs"
    __table_args__ = (Index(None, "job_id", "started_at"),)
    id: Mapped[int] = _pk()
    client_id: Mapped[int] = _client_fk()
    job_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("jobs.id", ondelete="CASCADE"))
    trigger: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime] = _created()
    finished_at: Mapped[datetime | None]
    error: Mapped[str | None]
    records: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    api_calls: Mapped[int] = mapped_column(server_default=text("0"))
    retries: Mapped[int] = mapped_column(server_default=text("0"))
    rate_limit_waits: Mapped[int] = mapped_column(server_default=text("0"))
    checkpoint_before: Mapped[Json | None]
    checkpoint_after: Mapped[Json | None]
    stats: Mapped[Json] = mapped_column(server_default=text("'{}'::jsonb"))
    worker: Mapped[str | None] = mapped_column(String(200))  # the pool worker executing it
    task_id: Mapped[int | None] = mapped_column(BigInteger)  # its procrastinate job


class Checkpoint(Base):
    """A pipeline's resume point per scope (a Jira site, a GitHub repository, …).

    Written in the same transaction as the rows it covers, so a crash never loses or
    duplicates data.
    """

    __tablename__ = "checkpoints"
    __table_args__ = (UniqueConstraint("client_id", "integration_id", "scope"),)
    id: Mapped[int] = _pk()
    client_id: Mapped[int] = _client_fk()
    integration_id: Mapped[int] = _integration_fk()
    scope: Mapped[str]
    state: Mapped[Json] = mapped_column(server_default=text("'{}'::jsonb"))
    updated_at: Mapped[datetime] = _created()


class ScheduleTick(Base):
    """When the pool last ticked a client's schedule: one tick per interval across the pool.

    A worker evaluates a client's schedule while holding this row (FOR UPDATE SKIP LOCKED),
    so two workers never decide for one client at once, and `last_tick` is the pool's.
    """

    __tablename__ = "schedule_ticks"
    client_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("clients.id", ondelete="CASCADE"), primary_key=True
    )
    last_tick: Mapped[datetime | None]
    ticked_by: Mapped[str | None]


class PoolWorker(Base):
    """A worker process of the pool, with its heartbeat (a row per running process)."""

    __tablename__ = "pool_workers"
    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    host: Mapped[str] = mapped_column(String(200))
    pid: Mapped[int]
    concurrency: Mapped[int]
    queues: Mapped[list[str] | None] = mapped_column(ARRAY(String))  # None: every queue
    clients: Mapped[list[str] | None] = mapped_column(ARRAY(String))  # None: every client
    started_at: Mapped[datetime] = _created()
    heartbeat: Mapped[datetime] = _created()


class Setting(Base):
    """A run-time setting (client_id NULL = global); every change is audited."""

    __tablename__ = "settings"
    __table_args__ = (
        Index("uq_settings_client_key", text("coalesce(client_id, 0)"), "key", unique=True),
    )
    id: Mapped[int] = _pk()
    client_id: Mapped[int | None] = _client_fk(nullable=True)
    key: Mapped[str] = mapped_column(String(200))
    value: Mapped[Any] = mapped_column(JSONB)
    updated_at: Mapped[datetime] = _created()
    updated_by: Mapped[str | None]


class ConsoleUser(Base):
    __tablename__ = "console_users"
    id: Mapped[int] = _pk()
    client_id: Mapped[int | None] = _client_fk(nullable=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    display_name: Mapped[str | None]
    role: Mapped[str] = mapped_column(String(32), server_default=text("'operator'"))
    active: Mapped[bool] = mapped_column(server_default=text("true"))
    created_at: Mapped[datetime] = _created()


class ApiToken(Base):
    """A bearer token of the HTTP API (`pulse-console token create`): only its SHA-256 is
    kept, so the token itself is shown once and never stored; `role` is viewer, user or
    admin; a token is valid for its own client only, until `revoked_at`."""

    __tablename__ = "api_tokens"
    __table_args__ = (UniqueConstraint("client_id", "name"),)
    id: Mapped[int] = _pk()
    client_id: Mapped[int] = _client_fk()
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[str]
    created_at: Mapped[datetime] = _created()
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    # The PostgreSQL role its requests run as (migration 0021); dropped when it is revoked.
    db_role: Mapped[str | None] = mapped_column(String(63), unique=True)


class ClientMember(Base):
    """A PostgreSQL role (login or group) that may see and change one client's rows.

    Row-level security reads it (migration 0013, `pulse_visible_client_ids()`); a login
    that creates a client becomes its member.
    """

    __tablename__ = "client_members"
    __table_args__ = (Index(None, "client_id"),)
    role_name: Mapped[str] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("clients.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime] = _created()


class AuditLog(Base):
    """Who changed what: written by the triggers of migration 0014 and by the services.

    `login` is the PostgreSQL login (stamped by the database, never by the writer);
    `before`/`after` hold the changed columns (a secret's value never).
    """

    __tablename__ = "audit_log"
    __table_args__ = (Index(None, "client_id", "ts"), Index(None, "ts"))
    id: Mapped[int] = _pk()
    client_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("clients.id", ondelete="CASCADE")
    )
    ts: Mapped[datetime] = _created()
    actor: Mapped[str]
    action: Mapped[str]
    target: Mapped[str | None]
    details: Mapped[Json] = mapped_column(server_default=text("'{}'::jsonb"))
    login: Mapped[str | None]
    before: Mapped[Json | None]
    after: Mapped[Json | None]


class Secret(Base):
    """Fernet-encrypted secrets, used when no real OS keyring is available."""

    __tablename__ = "secrets"
    id: Mapped[int] = _pk()
    client_id: Mapped[int | None] = _client_fk(nullable=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    updated_at: Mapped[datetime] = _created()


class LogEntry(Base):
    """Job log records; paged by (ts, id) keyset in the console."""

    __tablename__ = "log_entries"
    __table_args__ = (
        Index(None, "ts", "id"),
        Index(None, "job", "ts"),
        Index(None, "run_id", "ts", "id"),
        Index(None, "level", "ts"),
        # Substring search (ILIKE '%…%'). Migration 0004 skips it where pg_trgm is missing.
        Index(
            "ix_log_entries_message_trgm",
            "message",
            postgresql_using="gin",
            postgresql_ops={"message": "gin_trgm_ops"},
        ),
    )
    id: Mapped[int] = _pk()
    client_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("clients.id", ondelete="CASCADE")
    )
    ts: Mapped[datetime]
    level: Mapped[str] = mapped_column(String(10))
    job: Mapped[str | None] = mapped_column(String(100))
    run_id: Mapped[int | None] = mapped_column(BigInteger)
    logger: Mapped[str] = mapped_column(String(200))
    message: Mapped[str]
    extra: Mapped[Json] = mapped_column(server_default=text("'{}'::jsonb"))


class QuarantinedPayload(Base):
    """A payload that failed validation, kept verbatim with the error that rejected it."""

    __tablename__ = "quarantined_payloads"
    __table_args__ = (Index(None, "client_id", "created_at"),)
    id: Mapped[int] = _pk()
    client_id: Mapped[int] = _client_fk()
    integration_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("integrations.id", ondelete="CASCADE")
    )
    run_id: Mapped[int | None] = mapped_column(BigInteger)
    entity: Mapped[str] = mapped_column(String(64))
    external_id: Mapped[str | None]
    error: Mapped[str]
    raw_text: Mapped[str]
    created_at: Mapped[datetime] = _created()


# --- source metadata --------------------------------------------------------------------


def _source_key(table: str) -> UniqueConstraint:
    return UniqueConstraint("client_id", "integration_id", "external_id", name=f"uq_{table}_nk")


class Project(Base):
    __tablename__ = "projects"
    __table_args__ = (_source_key("projects"),)
    id: Mapped[int] = _pk()
    client_id: Mapped[int] = _client_fk()
    integration_id: Mapped[int] = _integration_fk()
    external_id: Mapped[str]
    key: Mapped[str]
    name: Mapped[str]
    raw: Mapped[Json | None]
    active: Mapped[bool] = mapped_column(server_default=text("true"))


class Status(Base):
    """A workflow status; `category` is the source's category key (new/indeterminate/done)."""

    __tablename__ = "statuses"
    __table_args__ = (_source_key("statuses"),)
    id: Mapped[int] = _pk()
    client_id: Mapped[int] = _client_fk()
    integration_id: Mapped[int] = _integration_fk()
    external_id: Mapped[str]
    name: Mapped[str]
    category: Mapped[str | None] = mapped_column(String(32))
    category_name: Mapped[str | None]
    raw: Mapped[Json | None]


class IssueType(Base):
    __tablename__ = "issue_types"
    __table_args__ = (_source_key("issue_types"),)
    id: Mapped[int] = _pk()
    client_id: Mapped[int] = _client_fk()
    integration_id: Mapped[int] = _integration_fk()
    external_id: Mapped[str]
    name: Mapped[str]
    subtask: Mapped[bool] = mapped_column(server_default=text("false"))
    raw: Mapped[Json | None]


class SourceUser(Base):
    """A person as the source system knows them (Jira account, GitHub login)."""

    __tablename__ = "source_users"
    __table_args__ = (_source_key("source_users"),)
    id: Mapped[int] = _pk()
    client_id: Mapped[int] = _client_fk()
    integration_id: Mapped[int] = _integration_fk()
    external_id: Mapped[str]
    display_name: Mapped[str | None]
    email: Mapped[str | None]
    active: Mapped[bool] = mapped_column(server_default=text("true"))
    raw: Mapped[Json | None]


class SourceField(Base):
    """A source field definition, so custom fields can be stored by name."""

    __tablename__ = "source_fields"
    __table_args__ = (_source_key("source_fields"),)
    id: Mapped[int] = _pk()
    client_id: Mapped[int] = _client_fk()
    integration_id: Mapped[int] = _integration_fk()
    external_id: Mapped[str]
    name: Mapped[str]
    custom: Mapped[bool] = mapped_column(server_default=text("false"))
    schema: Mapped[Json | None]


# --- work items ---------------------------------------------------------------------------


class WorkItem(Base):
    """A Jira issue, Azure DevOps work item or Aha! feature."""

    __tablename__ = "work_items"
    __table_args__ = (
        _source_key("work_items"),
        Index(None, "client_id", "project_key", "created_at"),
        Index(None, "client_id", "key"),
        # Incidents, on the stored `lower(type)`: an index a login under row-level security
        # can use in a join (migration 0018).
        Index("ix_work_items_client_id_type_key", "client_id", "type_key"),
    )
    id: Mapped[int] = _pk()
    client_id: Mapped[int] = _bulk_client()
    integration_id: Mapped[int] = _bulk_integration()
    source: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str]
    key: Mapped[str | None]
    project_key: Mapped[str | None]
    type: Mapped[str | None]
    status: Mapped[str | None]
    priority: Mapped[str | None]
    summary: Mapped[str | None]
    assignee: Mapped[str | None]
    created_at: Mapped[datetime | None]
    updated_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    custom_fields: Mapped[Json] = mapped_column(server_default=text("'{}'::jsonb"))
    raw: Mapped[Json | None]
    active: Mapped[bool] = mapped_column(server_default=text("true"))
    # The source's development summary the stored dev-status links reflect (Jira: the
    # Development field's fingerprint); the links are fetched again only when it changes.
    dev_summary: Mapped[str | None]
    # `lower(type)`, stored: compared with a leakproof `=` (see `Deployment.status_key`).
    type_key: Mapped[str | None] = mapped_column(Text, Computed("lower(type)", persisted=True))


class WorkItemTransition(Base):
    """One changed field of one changelog entry (`external_id` is the history's id)."""

    __tablename__ = "work_item_transitions"
    __table_args__ = (
        UniqueConstraint(
            "client_id",
            "integration_id",
            "external_id",
            "item_index",
            name="uq_work_item_transitions_nk",
        ),
        Index(None, "work_item_id", "changed_at"),
        Index(None, "client_id", "field", "changed_at"),
        # The flow timeline: status changes per item, index-only (migration 0003).
        Index(
            "ix_work_item_transitions_status",
            "work_item_id",
            "changed_at",
            "id",
            postgresql_include=["client_id", "from_value", "to_value"],
            postgresql_where=text("field = 'status'"),
        ),
    )
    id: Mapped[int] = _pk()
    client_id: Mapped[int] = _bulk_client()
    integration_id: Mapped[int] = _bulk_integration()
    work_item_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("work_items.id", ondelete="CASCADE")
    )
    external_id: Mapped[str]
    item_index: Mapped[int] = mapped_column(SmallInteger, server_default=text("0"))
    field: Mapped[str]
    field_id: Mapped[str | None]
    from_value: Mapped[str | None]
    to_value: Mapped[str | None]
    from_id: Mapped[str | None]
    to_id: Mapped[str | None]
    author: Mapped[str | None]
    changed_at: Mapped[datetime]


class WorkItemStatusSpan(Base):
    """One visit of a work item to a status, derived from the item and its status changes.

    Not source data: `storage.status_spans` computes it (the Jira sync per page, or a full
    rebuild) so the flow metrics need not rebuild every timeline per query (migration 0006).
    Independent of flow mappings, which are joined when a metric is computed."""

    __tablename__ = "work_item_status_spans"
    __table_args__ = (
        # Status changes since a date, per client (the flow metrics' "changed in the period").
        Index(None, "client_id", "entered_at"),
        # An item's timeline, index-only: a project's few thousand items are looked up
        # instead of scanning every span (the primary key alone costs a heap visit each).
        Index(
            "ix_work_item_status_spans_timeline",
            "work_item_id",
            # client_id: the row-level security policy reads it, so a login's scan stays
            # index-only like the owner's (migration 0018).
            postgresql_include=["status_key", "entered_at", "left_at", "client_id"],
        ),
    )
    work_item_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("work_items.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(primary_key=True)  # 0: from creation; k: after change k
    client_id: Mapped[int] = _bulk_client()
    status_key: Mapped[str | None]  # lower(status name): how flow mappings match it
    entered_at: Mapped[datetime | None]
    left_at: Mapped[datetime | None]  # NULL: still in it


class WorkItemLink(Base):
    """A work item's link to code: from dev-status, or a key found in a title/branch/commit."""

    __tablename__ = "work_item_links"
    __table_args__ = (
        UniqueConstraint(
            "client_id", "work_item_id", "kind", "url", "evidence", name="uq_work_item_links_nk"
        ),
        Index(None, "client_id", "repository", "pull_request_number"),
    )
    id: Mapped[int] = _pk()
    client_id: Mapped[int] = _bulk_client()
    work_item_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("work_items.id", ondelete="CASCADE")
    )
    kind: Mapped[str] = mapped_column(String(32))
    url: Mapped[str]
    repository: Mapped[str | None]
    pull_request_number: Mapped[int | None]
    evidence: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str | None]


# --- plans: releases and goals (Aha!; Jira fix versions later) ----------------------------


class Release(Base):
    """A release (Aha! release; shaped so Jira fix versions can land here too)."""

    __tablename__ = "releases"
    __table_args__ = (_source_key("releases"), Index(None, "client_id", "key"))
    id: Mapped[int] = _pk()
    client_id: Mapped[int] = _client_fk()
    integration_id: Mapped[int] = _integration_fk()
    source: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str]
    key: Mapped[str | None]
    name: Mapped[str | None]
    project_key: Mapped[str | None]
    status: Mapped[str | None]
    start_date: Mapped[date | None] = mapped_column(Date)
    release_date: Mapped[date | None] = mapped_column(Date)
    released: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    created_at: Mapped[datetime | None]
    updated_at: Mapped[datetime | None]
    raw: Mapped[Json | None]
    active: Mapped[bool] = mapped_column(server_default=text("true"))


class WorkItemRelease(Base):
    """A work item planned in (or shipped with) a release."""

    __tablename__ = "work_item_releases"
    __table_args__ = (
        UniqueConstraint(
            "client_id", "work_item_id", "release_id", name="uq_work_item_releases_nk"
        ),
        Index(None, "release_id"),
    )
    id: Mapped[int] = _pk()
    client_id: Mapped[int] = _client_fk()
    work_item_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("work_items.id", ondelete="CASCADE")
    )
    release_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("releases.id", ondelete="CASCADE")
    )


class Goal(Base):
    """A goal or an initiative (`kind`: goal | initiative) that work items serve."""

    __tablename__ = "goals"
    __table_args__ = (_source_key("goals"), Index(None, "client_id", "key"))
    id: Mapped[int] = _pk()
    client_id: Mapped[int] = _client_fk()
    integration_id: Mapped[int] = _integration_fk()
    source: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str]
    key: Mapped[str | None]
    name: Mapped[str | None]
    project_key: Mapped[str | None]
    status: Mapped[str | None]
    progress: Mapped[float | None] = mapped_column(Float)
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime | None]
    updated_at: Mapped[datetime | None]
    raw: Mapped[Json | None]
    active: Mapped[bool] = mapped_column(server_default=text("true"))


class WorkItemGoal(Base):
    """A work item serving a goal or an initiative."""

    __tablename__ = "work_item_goals"
    __table_args__ = (
        UniqueConstraint("client_id", "work_item_id", "goal_id", name="uq_work_item_goals_nk"),
        Index(None, "goal_id"),
    )
    id: Mapped[int] = _pk()
    client_id: Mapped[int] = _client_fk()
    work_item_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("work_items.id", ondelete="CASCADE")
    )
    goal_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("goals.id", ondelete="CASCADE"))


# --- code and delivery ----------------------------------------------------------------------


class Repository(Base):
    __tablename__ = "repositories"
    __table_args__ = (
        _source_key("repositories"),
        Index(None, "client_id", "full_name"),
    )
    id: Mapped[int] = _pk()
    client_id: Mapped[int] = _client_fk()
    integration_id: Mapped[int] = _integration_fk()
    external_id: Mapped[str]
    full_name: Mapped[str]
    url: Mapped[str | None]
    default_branch: Mapped[str | None]
    discovered_by: Mapped[str | None]
    active: Mapped[bool] = mapped_column(server_default=text("true"))


def _repo_fk() -> Mapped[int]:
    return mapped_column(BigInteger, ForeignKey("repositories.id", ondelete="CASCADE"))


def _pr_fk() -> Mapped[int]:
    return mapped_column(BigInteger, ForeignKey("pull_requests.id", ondelete="CASCADE"))


class PullRequest(Base):
    __tablename__ = "pull_requests"
    __table_args__ = (
        _source_key("pull_requests"),
        Index(None, "repository_id", "merged_at"),
        Index(None, "repository_id", "number"),
        Index(None, "client_id", "updated_at"),
        Index(None, "merge_commit_sha"),
    )
    id: Mapped[int] = _pk()
    client_id: Mapped[int] = _bulk_client()
    integration_id: Mapped[int] = _bulk_integration()
    repository_id: Mapped[int] = _repo_fk()
    external_id: Mapped[str]
    number: Mapped[int]
    title: Mapped[str | None]
    url: Mapped[str | None]
    state: Mapped[str] = mapped_column(String(16))
    author: Mapped[str | None]
    base_branch: Mapped[str | None]
    head_branch: Mapped[str | None]
    created_at: Mapped[datetime | None]
    updated_at: Mapped[datetime | None]
    merged_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    merge_commit_sha: Mapped[str | None] = mapped_column(String(64))
    additions: Mapped[int | None]
    deletions: Mapped[int | None]
    changed_files: Mapped[int | None]
    active: Mapped[bool] = mapped_column(server_default=text("true"))


class PrCommit(Base):
    __tablename__ = "pr_commits"
    __table_args__ = (
        UniqueConstraint("client_id", "pull_request_id", "sha", name="uq_pr_commits_nk"),
        Index(None, "sha"),
    )
    id: Mapped[int] = _pk()
    client_id: Mapped[int] = _bulk_client()
    integration_id: Mapped[int] = _bulk_integration()
    pull_request_id: Mapped[int] = _pr_fk()
    sha: Mapped[str] = mapped_column(String(64))
    author: Mapped[str | None]
    authored_at: Mapped[datetime | None]
    committed_at: Mapped[datetime | None]
    message: Mapped[str | None]
    additions: Mapped[int | None]
    deletions: Mapped[int | None]


class PrReview(Base):
    __tablename__ = "pr_reviews"
    __table_args__ = (_source_key("pr_reviews"), Index(None, "pull_request_id", "submitted_at"))
    id: Mapped[int] = _pk()
    client_id: Mapped[int] = _bulk_client()
    integration_id: Mapped[int] = _bulk_integration()
    pull_request_id: Mapped[int] = _pr_fk()
    external_id: Mapped[str]
    author: Mapped[str | None]
    state: Mapped[str] = mapped_column(String(32))
    submitted_at: Mapped[datetime | None]


class PrComment(Base):
    __tablename__ = "pr_comments"
    __table_args__ = (_source_key("pr_comments"), Index(None, "pull_request_id", "created_at"))
    id: Mapped[int] = _pk()
    client_id: Mapped[int] = _bulk_client()
    integration_id: Mapped[int] = _bulk_integration()
    pull_request_id: Mapped[int] = _pr_fk()
    external_id: Mapped[str]
    author: Mapped[str | None]
    kind: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime | None]


class Deployment(Base):
    __tablename__ = "deployments"
    __table_args__ = (
        _source_key("deployments"),
        Index(None, "repository_id", "environment", "finished_at"),
        Index(None, "sha"),
        # DORA's successful production deployments, on the normalized columns: an index
        # a login under row-level security can use (migration 0018).
        Index(
            "ix_deployments_production",
            "client_id",
            "status_key",
            "environment_key",
            "created_at",
        ),
    )
    id: Mapped[int] = _pk()
    client_id: Mapped[int] = _bulk_client()
    integration_id: Mapped[int] = _bulk_integration()
    repository_id: Mapped[int] = _repo_fk()
    external_id: Mapped[str]
    environment: Mapped[str]
    status: Mapped[str] = mapped_column(String(32))
    sha: Mapped[str | None] = mapped_column(String(64))
    ref: Mapped[str | None]
    created_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    # `upper(status)` and `lower(environment)`, stored: metric filters compare them with a
    # leakproof `=` that an index serves under row-level security too.
    status_key: Mapped[str | None] = mapped_column(
        Text, Computed("upper((status)::text)", persisted=True)
    )
    environment_key: Mapped[str | None] = mapped_column(
        Text, Computed("lower(environment)", persisted=True)
    )


class CiRun(Base):
    """A build or pipeline run (Azure Pipelines builds; GitHub Actions runs later).

    `status` and `result` are as the service spells them (Azure DevOps: status
    notStarted/inProgress/completed…, result succeeded/failed/canceled…); `repository_id`
    is empty for runs of repositories the integration does not sync (migration 0007)."""

    __tablename__ = "ci_runs"
    __table_args__ = (
        _source_key("ci_runs"),
        Index(None, "repository_id", "finished_at"),
        Index(None, "sha"),
    )
    id: Mapped[int] = _pk()
    client_id: Mapped[int] = _client_fk()
    integration_id: Mapped[int] = _integration_fk()
    repository_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("repositories.id", ondelete="CASCADE")
    )
    external_id: Mapped[str]
    pipeline: Mapped[str | None]
    number: Mapped[str | None]
    status: Mapped[str] = mapped_column(String(32))
    result: Mapped[str | None] = mapped_column(String(32))
    branch: Mapped[str | None]
    sha: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str | None]
    url: Mapped[str | None]
    created_at: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class WorkItemRevisionHead(Base):
    """The fields of the newest revision a sync has read for a work item, so a revision
    read in a later page or run is compared with its predecessor (Azure DevOps reporting
    revisions carry snapshots, not changes; migration 0007)."""

    __tablename__ = "work_item_revision_heads"
    work_item_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("work_items.id", ondelete="CASCADE"), primary_key=True
    )
    client_id: Mapped[int] = _bulk_client()
    rev: Mapped[int]
    fields: Mapped[Json] = mapped_column(server_default=text("'{}'::jsonb"))


# --- flow mappings ------------------------------------------------------------------------


class FlowStep(Base):
    __tablename__ = "flow_steps"
    __table_args__ = (UniqueConstraint("client_id", "name"),)
    id: Mapped[int] = _pk()
    client_id: Mapped[int] = _client_fk()
    name: Mapped[str] = mapped_column(String(100))
    category: Mapped[str] = mapped_column(String(16))  # todo | in_progress | done
    position: Mapped[int] = mapped_column(server_default=text("0"))
    is_active_work: Mapped[bool] = mapped_column(server_default=text("true"))
    active: Mapped[bool] = mapped_column(server_default=text("true"))


class StatusMapping(Base):
    """Maps a status name (case-insensitive), optionally per issue type, to a flow step."""

    __tablename__ = "status_mappings"
    __table_args__ = (
        Index(
            "uq_status_mappings_nk",
            "client_id",
            text("lower(status_name)"),
            text("lower(coalesce(issue_type, ''))"),
            unique=True,
        ),
    )
    id: Mapped[int] = _pk()
    client_id: Mapped[int] = _client_fk()
    status_name: Mapped[str]
    issue_type: Mapped[str | None]
    flow_step_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("flow_steps.id", ondelete="RESTRICT")
    )
    active: Mapped[bool] = mapped_column(server_default=text("true"))


class IssueTypeMapping(Base):
    """Maps a source issue type to a kind the metrics know (incident, defect, feature…)."""

    __tablename__ = "issue_type_mappings"
    __table_args__ = (
        Index("uq_issue_type_mappings_nk", "client_id", text("lower(issue_type)"), unique=True),
    )
    id: Mapped[int] = _pk()
    client_id: Mapped[int] = _client_fk()
    issue_type: Mapped[str]
    kind: Mapped[str] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(server_default=text("true"))
