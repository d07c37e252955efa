from __future__ import annotations

import pytest
from sqlalchemy import Engine

from storage.checkpoints import clear_checkpoints, load_checkpoint, save_checkpoint


def test_checkpoint_round_trip_and_overwrite(tenant: Engine) -> None:
    with tenant.begin() as conn:
        assert load_checkpoint(conn, 1, 1, "jira") == {}
        save_checkpoint(conn, 1, 1, "jira", {"watermark": "2024-01-01T00:00:00Z", "page": 1})
        save_checkpoint(conn, 1, 1, "jira", {"watermark": "2024-01-02T00:00:00Z", "page": 2})
    with tenant.begin() as conn:
        assert load_checkpoint(conn, 1, 1, "jira")["page"] == 2
        clear_checkpoints(conn, 1, 1)
        assert load_checkpoint(conn, 1, 1, "jira") == {}


def test_a_checkpoint_is_lost_with_its_rolled_back_transaction(tenant: Engine) -> None:
    with pytest.raises(RuntimeError), tenant.begin() as conn:
        save_checkpoint(conn, 1, 1, "jira", {"page": 9})
        raise RuntimeError("crash")
    with tenant.begin() as conn:
        assert load_checkpoint(conn, 1, 1, "jira") == {}
