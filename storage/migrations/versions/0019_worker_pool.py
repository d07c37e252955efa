"""a pool of workers on procrastinate: its schema, pool_workers, schedule_ticks (issue 17)

Revision ID: 0019
Revises: 0021

Runs are procrastinate jobs now (a PostgreSQL task queue: locks, queueing locks, abort,
worker heartbeats), so one worker process no longer drives one client through an advisory
lock and a control table. This migration:

- installs procrastinate's schema from the installed package (`procrastinate.schema`),
  so `db upgrade` is the only command a deployment runs; grants its tables to the roles
  that use them: workers run tasks, users defer runs and request aborts, viewers read;
- adds `pool_workers` (one row per worker process: name, host, pid, concurrency, queues,
  clients, heartbeat) and `schedule_ticks` (per client: when the pool last ticked its
  schedule; isolated by client like every `client_id` table);
- adds `jobs.cancel_intent` (stop | pause requested of the running run) and
  `jobs.cancel_requested_login`, stamped by a trigger from `session_user` whenever an intent
  is set and kept otherwise, so no login can credit a request to another login;
  `job_runs.worker` (the worker executing it) and `job_runs.task_id` (its procrastinate job);
- moves pending stop and pause commands of `control_commands` over to `cancel_intent`
  (other pending commands are answered "expired": their requester had stopped waiting),
  then drops `control_commands` and `leader_epochs` (fencing is by run ownership now,
  storage/fencing.py); a job left RUNNING by the old leader has no task, and the pool closes
  its run INTERRUPTED and resumes it from its checkpoint;
- a worker applies no command for anyone any more (users act themselves, as their own
  login), so `pulse_acting_login()` is `session_user`; users may update jobs and job runs
  (the controls they were already allowed) and settings stay the admins' (the settings
  table's grants; the admin-only policy on `set_setting` commands goes with their table).
"""

import importlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from procrastinate.schema import SchemaManager
from sqlalchemy.dialects import postgresql

revision: str = "0019"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

QUEUE_TABLES = (
    "procrastinate_jobs",
    "procrastinate_workers",
    "procrastinate_events",
    "procrastinate_periodic_defers",
)
QUEUE_SEQUENCES = (
    "procrastinate_jobs_id_seq",
    "procrastinate_workers_id_seq",
    "procrastinate_events_id_seq",
    "procrastinate_periodic_defers_id_seq",
)

_STAMP_CANCEL = """
CREATE FUNCTION pulse_stamp_cancel_login() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    IF NEW.cancel_intent IS NULL THEN
        NEW.cancel_requested_login := NULL;
    ELSIF TG_OP = 'INSERT' OR OLD.cancel_intent IS DISTINCT FROM NEW.cancel_intent THEN
        NEW.cancel_requested_login := session_user;
    ELSE
        NEW.cancel_requested_login := OLD.cancel_requested_login;
    END IF;
    RETURN NEW;
END
$fn$
"""

_ACTING_LOGIN = """
CREATE OR REPLACE FUNCTION pulse_acting_login() RETURNS text LANGUAGE sql STABLE
AS $fn$ SELECT session_user::text $fn$
"""

_MOVE_PENDING = """
UPDATE jobs j SET cancel_intent = c.action, cancel_requested = true
FROM control_commands c
WHERE c.status = 'pending' AND c.action IN ('stop', 'pause')
  AND c.client_id = j.client_id AND c.job = j.name AND j.status = 'RUNNING'
"""


def _grants() -> str:
    tables = ", ".join(QUEUE_TABLES)
    sequences = ", ".join(QUEUE_SEQUENCES)
    return f"""
GRANT SELECT ON {tables}, pool_workers TO pulse_viewer;
GRANT SELECT, INSERT, UPDATE ON {tables} TO pulse_user;
GRANT SELECT, INSERT, UPDATE, DELETE ON {tables}, pool_workers TO pulse_worker, pulse_admin;
GRANT USAGE, SELECT ON SEQUENCE {sequences} TO pulse_user, pulse_worker;
GRANT UPDATE ON jobs TO pulse_user;
GRANT INSERT, UPDATE ON job_runs, schedule_ticks TO pulse_user;
"""


def upgrade() -> None:
    # procrastinate's own schema text, read from the installed package, as its
    # `schema --apply` would run it (works offline too: tests build schemas from SQL).
    op.execute(SchemaManager.get_schema())
    op.create_table(
        "pool_workers",
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("host", sa.String(200), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("concurrency", sa.Integer(), nullable=False),
        sa.Column("queues", postgresql.ARRAY(sa.String()), nullable=True),
        sa.Column("clients", postgresql.ARRAY(sa.String()), nullable=True),
        sa.Column(
            "started_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "heartbeat", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
    )
    op.create_table(
        "schedule_ticks",
        sa.Column(
            "client_id",
            sa.BigInteger(),
            sa.ForeignKey("clients.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("last_tick", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ticked_by", sa.Text(), nullable=True),
    )
    op.execute("SELECT pulse_isolate_by_client('schedule_ticks')")
    op.add_column("jobs", sa.Column("cancel_intent", sa.String(16), nullable=True))
    op.add_column("jobs", sa.Column("cancel_requested_login", sa.Text(), nullable=True))
    op.add_column("job_runs", sa.Column("worker", sa.String(200), nullable=True))
    op.add_column("job_runs", sa.Column("task_id", sa.BigInteger(), nullable=True))
    op.execute(_STAMP_CANCEL)
    op.execute(
        "CREATE TRIGGER pulse_stamp_cancel_login BEFORE INSERT OR UPDATE ON jobs"
        " FOR EACH ROW EXECUTE FUNCTION pulse_stamp_cancel_login()"
    )
    op.execute(_MOVE_PENDING)
    op.execute(_ACTING_LOGIN)
    op.execute("DROP TABLE control_commands")  # its admin-only policy goes with it
    op.execute("DROP FUNCTION pulse_is_admin()")
    op.execute("DROP FUNCTION pulse_stamp_requested_login()")
    op.drop_table("leader_epochs")
    op.execute(_grants())


def _revision(name: str) -> object:
    return importlib.import_module(f"storage.migrations.versions.{name}")


def downgrade() -> None:
    commands = _revision("0002_control_commands")
    epochs = _revision("0011_leader_epochs")
    audit = _revision("0014_audit_trail")
    epochs.upgrade()  # type: ignore[attr-defined]
    commands.upgrade()  # type: ignore[attr-defined]
    op.add_column(
        "control_commands",
        sa.Column("requested_login", sa.Text(), server_default=sa.text("SESSION_USER")),
    )
    op.execute("SELECT pulse_isolate_by_client('control_commands')")
    op.execute("SELECT pulse_isolate_by_client('leader_epochs')")
    op.execute("GRANT INSERT ON control_commands TO pulse_user")
    op.execute(audit._STAMP_COMMAND)  # type: ignore[attr-defined]
    op.execute(
        "CREATE TRIGGER pulse_stamp_login BEFORE INSERT OR UPDATE ON control_commands"
        " FOR EACH ROW EXECUTE FUNCTION pulse_stamp_requested_login()"
    )
    op.execute("DROP FUNCTION pulse_acting_login()")
    op.execute(audit._ACTING_LOGIN)  # type: ignore[attr-defined]
    op.execute(audit._PIN_PATHS)  # type: ignore[attr-defined]
    roles = _revision("0013_roles_and_client_isolation")
    op.execute(roles._ADMIN_CONTROLS)  # type: ignore[attr-defined]
    op.execute(roles._PIN_PATHS)  # type: ignore[attr-defined]
    op.execute("DROP TRIGGER pulse_stamp_cancel_login ON jobs")
    op.execute("DROP FUNCTION pulse_stamp_cancel_login()")
    op.drop_column("job_runs", "task_id")
    op.drop_column("job_runs", "worker")
    op.drop_column("jobs", "cancel_requested_login")
    op.drop_column("jobs", "cancel_intent")
    op.drop_table("schedule_ticks")
    op.drop_table("pool_workers")
    for table in reversed(QUEUE_TABLES):
        op.execute(f"DROP TABLE {table} CASCADE")
    op.execute(
        "DO $$ DECLARE f regprocedure; BEGIN FOR f IN SELECT p.oid::regprocedure FROM pg_proc p"
        " WHERE p.pronamespace = current_schema()::regnamespace"
        " AND p.proname LIKE 'procrastinate%' LOOP EXECUTE 'DROP FUNCTION ' || f; END LOOP; END $$"
    )
    for kind in (
        "procrastinate_job_to_defer_v1",
        "procrastinate_job_event_type",
        "procrastinate_job_status",
    ):
        op.execute(f"DROP TYPE {kind}")
