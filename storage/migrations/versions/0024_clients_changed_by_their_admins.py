"""an admin renames or removes only a client it may see (issue 16)

Revision ID: 0024
Revises: 0026

`clients` had no row-level security (it has no `client_id`; every login reads every
client's name), so an admin of one client could rename or remove another: the removal
cascaded to that client's rows behind foreign keys, while the rows it could not see (its
bulk tables, its API tokens and so their PostgreSQL roles) stayed behind. Now everyone
still reads and adds clients as before, but an UPDATE or DELETE reaches only a client whose
rows the acting role may see — the predicate of every client table's policy (migrations
0013 and 0021). The owner is not subject to it (not FORCEd), as it sees every client.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0024"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_VISIBLE = (
    "id = ANY ((SELECT pulse_visible_client_ids())::bigint[])"
    " OR (SELECT pg_has_role(pulse_acting_role(), 'pulse_all_clients', 'MEMBER'))"
)


def upgrade() -> None:
    op.execute("ALTER TABLE clients ENABLE ROW LEVEL SECURITY")
    op.execute("CREATE POLICY pulse_clients_read ON clients FOR SELECT USING (true)")
    op.execute("CREATE POLICY pulse_clients_add ON clients FOR INSERT WITH CHECK (true)")
    op.execute(
        f"CREATE POLICY pulse_clients_change ON clients FOR UPDATE USING ({_VISIBLE})"
        " WITH CHECK (true)"
    )
    op.execute(f"CREATE POLICY pulse_clients_remove ON clients FOR DELETE USING ({_VISIBLE})")


def downgrade() -> None:
    for policy in ("read", "add", "change", "remove"):
        op.execute(f"DROP POLICY IF EXISTS pulse_clients_{policy} ON clients")
    op.execute("ALTER TABLE clients DISABLE ROW LEVEL SECURITY")
