"""Schema migrations: the only way the schema changes (Alembic, driven from code)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


class SchemaBehind(Exception):
    """An external database's schema is older than this version of the code expects."""


@dataclass(frozen=True)
class SchemaStatus:
    current: str | None
    head: str
    pending: list[str]

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head

    def describe(self) -> str:
        if self.up_to_date:
            return f"schema is up to date (revision {self.head})"
        current = self.current or "empty database"
        return (
            f"schema is at {current}, this version needs {self.head} "
            f"({len(self.pending)} migration(s) pending)"
        )


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None, "storage/migrations has no revisions"
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def status(engine: Engine) -> SchemaStatus:
    script = ScriptDirectory.from_config(_config())
    current = current_revision(engine)
    head = head_revision()
    pending = [
        rev.revision
        for rev in script.iterate_revisions(head, current or "base")
        if rev.revision != current
    ]
    return SchemaStatus(current=current, head=head, pending=list(reversed(pending)))


def upgrade(engine: Engine, revision: str = "head") -> None:
    _run(engine, "upgrade", revision)


def downgrade(engine: Engine, revision: str = "base") -> None:
    _run(engine, "downgrade", revision)


def upgrade_sql(revision: str = "head") -> str:
    """The SQL that migrates an empty database to `revision` (Alembic's offline mode)."""
    config = _config()
    buffer = io.StringIO()
    config.output_buffer = buffer
    command.upgrade(config, revision, sql=True)
    return buffer.getvalue()


def reset_database(engine: Engine) -> None:
    """Drop everything the migrations created (and their history), then migrate to head."""
    downgrade(engine, "base")
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    upgrade(engine, "head")


def require_current(engine: Engine) -> None:
    """Refuse to run against a database whose schema is behind the code."""
    state = status(engine)
    if not state.up_to_date:
        raise SchemaBehind(f"{state.describe()}: run `pulse-console db upgrade` first")


# Migrations create cluster-wide roles and grant memberships, which two sessions migrating
# at once (two databases, or parallel test workers) would race on: they take turns.
_MIGRATION_LOCK = 0x70756C7365  # "pulse"


def hold_migration_lock(conn: Connection) -> None:
    """Wait for, then hold until `conn`'s transaction ends, the server's migration turn."""
    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK})


def _run(engine: Engine, action: str, revision: str) -> None:
    config = _config()
    with engine.begin() as conn:
        hold_migration_lock(conn)
        config.attributes["connection"] = conn
        getattr(command, action)(config, revision)
