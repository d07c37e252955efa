"""Alembic environment: run with a connection handed in by storage.migrate, or offline to
render the SQL (used by tests to build fresh schemas quickly)."""

from __future__ import annotations

from alembic import context

from storage.models import Base

config = context.config

if context.is_offline_mode():
    context.configure(
        dialect_name="postgresql",
        target_metadata=Base.metadata,
        literal_binds=True,
        transaction_per_migration=False,
    )
    with context.begin_transaction():
        context.run_migrations()
else:
    connection = config.attributes.get("connection")
    if connection is None:  # pragma: no cover - only storage.migrate drives migrations
        raise RuntimeError("run migrations through `pulse-console db upgrade`")
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        compare_type=True,
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()
