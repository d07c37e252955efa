"""Persistence: PostgreSQL through SQLAlchemy 2; knows nothing of HTTP or the application.

- `db.py`, `embedded.py` — an external PostgreSQL by URL, else the embedded server.
- `models.py`, `migrations/`, `migrate.py` — the canonical schema (a public contract) and the
  Alembic migrations, the only way it changes.
- `load.py` — bulk idempotent upsert (COPY → temp table → INSERT … ON CONFLICT).
- `checkpoints.py`, `quarantine.py` — a pipeline's checkpoints and set-aside payloads, written
  in the caller's transaction.
- `work_items.py`, `pull_requests.py`, `status_spans.py`, `flow_defaults.py` — the SQL a
  source's sync needs beyond the upsert, and derived tables it keeps current.
- `integrations.py`, `secrets.py`, `tenancy.py` — integrations, the secret store, clients.
- `identity.py`, `logins.py` — who is connected (login, product role, clients) and the
  operators' logins (create with a SCRAM verifier, role, client membership). Roles and
  row-level security are migration 0013's; a later migration isolates a new client table
  with `SELECT pulse_isolate_by_client('table')`.
- `task_queue.py`, `pool_workers.py`, `source_caps.py`, `fencing.py` — the worker pool's SQL:
  procrastinate's tasks of runs (isolated by client, migration 0023), the workers' registry
  and heartbeats, per-source caps, and the fence a run's writes pass.
- `testing.py` — a PostgreSQL and a schema of its own for each test or benchmark, and
  scratch logins with a role (`scratch_login`).
"""
