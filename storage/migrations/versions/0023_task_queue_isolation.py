"""procrastinate's tables under the clients' row-level security (issue 17)

Revision ID: 0023
Revises: 0024

The pool's tasks (migration 0019) lived in procrastinate's tables with no row-level
security: any login with the pool's grants read every client's tasks, and a worker started
without `--clients` fetched tasks of clients its login cannot see. Now:

- `procrastinate_jobs.client_id` is generated from the task's lock (`client:<id>`, the lock
  every run's task carries, `pulse_console/engine/queue.py`): the task cannot name one client
  in its lock and belong to another, and procrastinate's own inserts need no change. It is
  NOT NULL (a task without a client lock is refused: nothing of this product defers one)
  and references `clients` (a removed client's tasks go with it). The table then gets the
  same isolation as every `client_id` table (`pulse_isolate_by_client`, migration 0013):
  RLS ENABLEd and FORCEd, the client members' rows, every row for `pulse_all_clients` and
  the owner. procrastinate's functions run as the caller (none is SECURITY DEFINER, which
  tests/security/test_task_queue_isolation.py checks), so its fetch, run as a worker's
  login, only ever sees and takes the tasks of that login's clients; its per-client lock
  check only compares tasks of one client, which the login sees all of.
- `procrastinate_events` and `procrastinate_periodic_defers` carry no client: a row is
  visible (and writable) when its task is, through policies that read `procrastinate_jobs`
  under its own RLS; a periodic defer not yet linked to a task (`job_id` NULL, for an
  instant inside procrastinate's periodic defer) names no client. The write check is a
  VOLATILE function (`pulse_task_visible`): procrastinate links a periodic defer to the task
  that the same UPDATE inserts, which only a volatile function's fresh snapshot sees (and
  since that UPDATE returns the row, the periodic defers' read rule is that function too).
- `procrastinate_workers` stays as it is: an id and a heartbeat, nothing of any client, and
  every worker must see the others' heartbeats to detect stalled workers.

Tasks that name no existing client cannot run under these rules and are removed (none of
this product's do).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0023"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# At most 18 digits: always a bigint, so a malformed lock is refused, never an overflow.
_CLIENT_OF_LOCK = "CASE WHEN lock ~ '^client:[0-9]{1,18}$' THEN substr(lock, 8)::bigint END"

_ORPHANS = f"""
DELETE FROM procrastinate_jobs t
WHERE NOT EXISTS (SELECT 1 FROM clients c WHERE c.id = ({_CLIENT_OF_LOCK}))
"""

# Runs as the caller (not SECURITY DEFINER): the task's own row-level security decides.
# PARALLEL RESTRICTED (it only reads), so policing these tables keeps parallel plans.
_FUNCTION = """
CREATE FUNCTION pulse_task_visible(task bigint) RETURNS boolean
LANGUAGE plpgsql VOLATILE PARALLEL RESTRICTED
AS $$ BEGIN RETURN EXISTS (SELECT 1 FROM procrastinate_jobs WHERE id = task); END $$
"""
_PIN_PATH = """
DO $$ BEGIN
    EXECUTE format('ALTER FUNCTION pulse_task_visible(bigint) SET search_path = %I, pg_temp',
                   current_schema());
END $$
"""

_READ = "EXISTS (SELECT 1 FROM procrastinate_jobs t WHERE t.id = job_id)"
_WRITE = "pulse_task_visible(job_id)"
# table -> (which of its rows a login reads, which it may write)
_BY_TASK = {
    "procrastinate_events": (_READ, _WRITE),
    # its UPDATE … RETURNING checks the new row against the read rule too
    "procrastinate_periodic_defers": (f"job_id IS NULL OR {_WRITE}",) * 2,
}

_OWNER_AND_ALL = """
DO $$
BEGIN
    EXECUTE format('CREATE POLICY pulse_all_rows ON {table} TO pulse_all_clients, %I'
                   ' USING (true) WITH CHECK (true)',
                   (SELECT pg_get_userbyid(relowner) FROM pg_class
                    WHERE oid = '{table}'::regclass));
END $$
"""


def upgrade() -> None:
    op.execute(_ORPHANS)
    op.execute(
        "ALTER TABLE procrastinate_jobs ADD COLUMN client_id bigint"
        f" GENERATED ALWAYS AS ({_CLIENT_OF_LOCK}) STORED NOT NULL"
        " CONSTRAINT fk_procrastinate_jobs_client_id_clients REFERENCES clients (id)"
        " ON DELETE CASCADE"
    )
    op.execute("CREATE INDEX ix_procrastinate_jobs_client_id ON procrastinate_jobs (client_id)")
    op.execute("SELECT pulse_isolate_by_client('procrastinate_jobs')")
    op.execute(_FUNCTION)
    op.execute(_PIN_PATH)
    for table, (read, write) in _BY_TASK.items():
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY pulse_task_rows ON {table} USING ({read}) WITH CHECK ({write})")
        op.execute(_OWNER_AND_ALL.format(table=table))


def downgrade() -> None:
    for table in (*_BY_TASK, "procrastinate_jobs"):
        op.execute(f"DROP POLICY IF EXISTS pulse_task_rows ON {table}")
        op.execute(f"DROP POLICY IF EXISTS pulse_client_rows ON {table}")
        op.execute(f"DROP POLICY IF EXISTS pulse_all_rows ON {table}")
        op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
    op.execute("DROP FUNCTION pulse_task_visible(bigint)")
    op.execute("ALTER TABLE procrastinate_jobs DROP COLUMN client_id")  # its index and key too
