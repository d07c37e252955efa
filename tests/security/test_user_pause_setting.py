"""Migration 0022: a user writes the client's `orchestrator.paused` and no other setting."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import ProgrammingError

from storage.testing import scratch_login, seed_tenant

_INSERT = text("INSERT INTO settings (client_id, key, value) VALUES (1, :k, 'true')")
_UPDATE = text("UPDATE settings SET value = 'false' WHERE client_id = 1 AND key = :k")


@pytest.mark.owner
def test_a_user_may_pause_but_not_write_any_other_setting(engine: Engine) -> None:
    seed_tenant(engine)
    with scratch_login(engine, "user", clients=(1,)) as user:
        with user.begin() as conn:
            conn.execute(_INSERT, {"k": "orchestrator.paused"})
            assert conn.execute(_UPDATE, {"k": "orchestrator.paused"}).rowcount == 1
        with pytest.raises(ProgrammingError, match="row-level security"), user.begin() as conn:
            conn.execute(_INSERT, {"k": "retry.max_attempts"})
    with scratch_login(engine, "admin", clients=(1,)) as admin, admin.begin() as conn:
        conn.execute(_INSERT, {"k": "retry.enabled"})
