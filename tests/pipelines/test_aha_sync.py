"""The Aha! sync against the simulator: complete, incremental, paced and safe with its key."""

from __future__ import annotations

from connectors.sandbox.aha import AhaOrg
from connectors.sandbox.org import Org
from storage.db import Database
from tests.pipelines.aha_support import AhaSandbox, add_aha_integration, expected, stored, sync


def test_full_sync_stores_exactly_the_generated_account(database: Database) -> None:
    aha = AhaOrg(Org(5, "tiny"), features=300)
    sandbox = AhaSandbox(aha)
    secrets = add_aha_integration(database)

    result = sync(sandbox, database, secrets)

    want = expected(aha)
    assert stored(database) == want
    # Every kind of record and link is there (the comparison above is not of empty sets).
    assert {v[2] for v in want.items.values()} == {"Feature", "Requirement", "Epic", "Idea"}
    assert min(len(want.transitions), len(want.links), len(want.item_goals)) > 20
    assert {g[2] for g in want.goals.values()} == {"goal", "initiative"}
    assert result.stats["mode"] == "full"
    assert result.stats["responses_429"] == 0
