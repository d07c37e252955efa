"""The Aha! sync against the simulator: complete, incremental, paced and safe with its key."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import text

from connectors.errors import Cancelled
from connectors.http.cancel import CancelToken
from connectors.sandbox.aha import DEMO_AHA_KEY, AhaMutation, AhaOrg
from connectors.sandbox.faults import ErrorBursts, FaultScenario, RateLimit, Trigger
from connectors.sandbox.org import Org
from pulse_console.pipelines.base import Progress
from storage.db import Database
from tests.pipelines.aha_support import AhaSandbox, add_aha_integration, expected, stored, sync
from tests.pipelines.harness import MemorySecrets, context


def add_wrong_key(database: Database, secrets: MemorySecrets) -> MemorySecrets:
    """The same integration with a key the account refuses."""
    wrong = MemorySecrets()
    wrong.values = {name: key[::-1] for name, key in secrets.values.items()}
    return wrong


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


def test_incremental_sync_after_edits_new_records_and_deletions_converges(
    database: Database,
) -> None:
    aha = AhaOrg(Org(5, "tiny"), features=300)
    sandbox = AhaSandbox(aha)
    secrets = add_aha_integration(database)
    sync(sandbox, database, secrets)
    changes = aha.apply(AhaMutation(create=7, update=11, delete=5))
    sandbox.requests.clear()

    result = sync(sandbox, database, secrets)

    assert result.stats["mode"] == "incremental"
    assert stored(database) == expected(aha)
    with database.engine.connect() as conn:
        gone = conn.execute(
            text("SELECT count(*) FROM work_items WHERE NOT active AND type = 'Feature'")
        ).scalar_one()
    assert gone == len(changes.deleted) == 5
    # Only what changed since the watermark came back with its fields (not the 300 again).
    assert result.stats["records"] < 60


@pytest.mark.slow
def test_sync_of_ten_thousand_features_never_meets_a_429(database: Database) -> None:
    """The simulator enforces 20/s and 300/min on the same (fake) clock the client paces by."""
    aha = AhaOrg(Org(5, "small"), features=10_000)
    sandbox = AhaSandbox(aha)
    secrets = add_aha_integration(database)

    result = sync(sandbox, database, secrets)

    assert sandbox.simulator.rate_limited == 0
    assert result.stats["responses_429"] == 0
    assert result.stats["pacing_seconds"] > 0  # it did have to pace itself
    with database.engine.connect() as conn:
        features = conn.execute(
            text("SELECT count(*) FROM work_items WHERE type = 'Feature' AND active")
        ).scalar_one()
    assert features == 10_000
    # Lists in bulk: a handful of calls per 1,000 records, never one per record.
    assert result.api_calls < 200


def test_sync_survives_injected_rate_limits(database: Database) -> None:
    aha = AhaOrg(Org(5, "tiny"), features=300)
    scenario = FaultScenario(rate_limit=RateLimit(after_requests=4, window_seconds=10))
    sandbox = AhaSandbox(aha, scenario)
    secrets = add_aha_integration(database)

    result = sync(sandbox, database, secrets)

    assert sandbox.injector.counters.rate_limited > 0
    assert result.rate_limit_waits > 0
    assert stored(database) == expected(aha)


def test_the_api_key_never_reaches_logs_errors_or_the_database(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    aha = AhaOrg(Org(5, "tiny"), features=40)
    scenario = FaultScenario(seed=2, errors=ErrorBursts(every=7), malformed=Trigger(every=9))
    sandbox = AhaSandbox(aha, scenario)
    secrets = add_aha_integration(database)
    caplog.set_level(logging.DEBUG)

    result = sync(sandbox, database, secrets)
    bad = add_wrong_key(database, secrets)
    with pytest.raises(Exception) as refused:
        sync(AhaSandbox(aha), database, bad)

    assert DEMO_AHA_KEY not in caplog.text
    # Every malformed body was kept in quarantine and asked for again.
    assert result.stats["quarantined"] == sandbox.injector.counters.malformed > 0
    assert DEMO_AHA_KEY not in str(refused.value) and DEMO_AHA_KEY not in repr(refused.value)
    with database.engine.connect() as conn:
        dump = conn.execute(
            text(
                "SELECT string_agg(t::text, '') FROM (SELECT * FROM work_items) t"
                " UNION ALL SELECT string_agg(q::text, '') FROM quarantined_payloads q"
                " UNION ALL SELECT string_agg(c::text, '') FROM checkpoints c"
                " UNION ALL SELECT string_agg(i::text, '') FROM integrations i"
            )
        ).scalars()
        assert all(DEMO_AHA_KEY not in (d or "") for d in dump)


def test_progress_carries_totals_calls_and_the_minute_budget(database: Database) -> None:
    aha = AhaOrg(Org(5, "tiny"), features=120)
    sandbox = AhaSandbox(aha)
    secrets = add_aha_integration(database)
    progress: list[Progress] = []

    sandbox.pipeline().run(context(database, secrets, progress=progress))

    last = progress[-1]
    assert last.phase == "done" and last.total is not None and last.done == last.total
    assert last.api_calls > 0 and last.budget_limit == 300
    assert last.budget_remaining is not None and "paced" in last.message


def test_a_cancelled_sync_stops_between_pages_and_the_next_run_completes(
    database: Database,
) -> None:
    aha = AhaOrg(Org(5, "tiny"), features=300)
    sandbox = AhaSandbox(aha)
    secrets = add_aha_integration(database, config={"page_size": 20})
    cancel = CancelToken()
    sandbox.before_request = lambda r: cancel.cancel() if len(sandbox.requests) == 9 else None

    with pytest.raises(Cancelled):
        sandbox.pipeline().run(context(database, secrets, cancel=cancel))
    sandbox.before_request = None
    sync(sandbox, database, secrets)

    assert stored(database) == expected(aha)


def test_without_status_history_changes_are_recorded_as_seen_between_syncs(
    database: Database,
) -> None:
    aha = AhaOrg(Org(5, "tiny"), features=120)
    sandbox = AhaSandbox(aha, history=False)
    secrets = add_aha_integration(database)
    sync(sandbox, database, secrets)
    changes = aha.apply(AhaMutation(update=6))

    sync(sandbox, database, secrets)
    sync(sandbox, database, secrets)  # a third run sees nothing new and removes nothing

    moved = {aha.records[ref].id: aha.records[ref] for ref in changes.updated}
    with database.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT w.external_id, x.from_value, x.to_value, x.changed_at"
                " FROM work_item_transitions x JOIN work_items w ON w.id = x.work_item_id"
            )
        ).all()
    assert {r[0] for r in rows} == set(moved)
    for external_id, before, after, at in rows:
        feature = moved[external_id]
        assert (before, after) == (feature.history[-2].status, feature.history[-1].status)
        assert at.timestamp() * 1000 == feature.updated_ms
