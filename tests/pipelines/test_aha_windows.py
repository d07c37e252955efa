"""Aha! products as windows: several read at once within the account's one pace, each with
its own checkpoint row, and a bad ``windows`` setting is one clear error."""

from __future__ import annotations

import threading
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from connectors.aha import RATE_PER_MINUTE, RATE_PER_SECOND
from connectors.aha.client import AHA_MAX_IN_FLIGHT
from connectors.http.gate import RateGate
from connectors.sandbox.aha import AhaOrg
from connectors.sandbox.org import Org
from pulse_console.pipelines.aha.options import AhaConfigError, AhaSyncOptions
from pulse_console.pipelines.aha.state import SCOPE, RunState, SyncState
from pulse_console.pipelines.base import IntegrationRef
from storage.checkpoints import save_checkpoint
from storage.db import Database
from tests.pipelines.aha_support import (
    AhaSandbox,
    add_aha_integration,
    expected,
    stored,
    sync,
)


def list_threads(sandbox: AhaSandbox) -> set[str]:
    """The names of the threads that asked for list pages."""
    names: set[str] = set()

    def hook(request: httpx.Request) -> None:
        if "/products/" in request.url.path:
            names.add(threading.current_thread().name)

    sandbox.before_request = hook
    return names


def window_rows(database: Database) -> dict[str, dict[str, Any]]:
    with database.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT scope, state FROM checkpoints WHERE scope LIKE :s"), {"s": f"{SCOPE}:w%"}
        )
        return {scope: dict(state) for scope, state in rows}


def test_products_are_windows_read_at_once(database: Database) -> None:
    aha = AhaOrg(Org(7, "small"), features=300)  # four products
    sandbox = AhaSandbox(aha)
    secrets = add_aha_integration(database, config={"page_size": 20, "windows": 3})
    threads = list_threads(sandbox)

    sync(sandbox, database, secrets)

    assert stored(database) == expected(aha)
    assert len({t for t in threads if t.startswith("aha-window")}) == 3  # three at once
    rows = window_rows(database)
    assert len(rows) == len(aha.products) and all(r["done"] for r in rows.values())


def test_one_window_reads_one_product_at_a_time(database: Database) -> None:
    aha = AhaOrg(Org(7, "small"), features=300)
    sandbox = AhaSandbox(aha)
    secrets = add_aha_integration(database, config={"page_size": 20, "windows": 1})
    threads = list_threads(sandbox)

    sync(sandbox, database, secrets)

    assert stored(database) == expected(aha)
    assert {t for t in threads if t.startswith("aha-window")} == {"aha-window-0"}


def test_windows_together_stay_under_both_limits(database: Database) -> None:
    """Four windows share one pace: the simulator (20/s, 300/min on the same fake clock)
    never answers 429, and no second or minute carries more than Aha! allows.

    The gate paces a little further under the limits than the product's (`AHA_PACE`): the
    windows' threads share one fake clock that jumps whenever one of them sleeps, so a
    request paced at t can reach the simulator after another thread's sleep moved the clock
    on; in real time that gap is microseconds. Four unshared paces would be four times over."""
    aha = AhaOrg(Org(7, "small"), features=3000)
    gate = RateGate(
        AHA_MAX_IN_FLIGHT,
        per_minute={"all": RATE_PER_MINUTE - 30},
        per_second={"all": RATE_PER_SECOND - 5},
    )
    sandbox = AhaSandbox(aha, gate=gate)
    secrets = add_aha_integration(database, config={"page_size": 10, "windows": 4})
    sent: list[float] = []
    sandbox.before_request = lambda request: sent.append(sandbox.clock.monotonic())

    result = sync(sandbox, database, secrets)

    assert len(sent) > 2 * 300  # more than two minutes' worth
    assert sandbox.simulator.rate_limited == 0 and result.stats["responses_429"] == 0
    for i, start in enumerate(sent):
        assert sum(1 for t in sent[i:] if t - start < 1.0) <= RATE_PER_SECOND
        assert sum(1 for t in sent[i:] if t - start < 60.0) <= RATE_PER_MINUTE
    assert stored(database) == expected(aha)


def test_a_run_checkpointed_before_windows_resumes_where_it_was(database: Database) -> None:
    """A run interrupted by an older version (one chain: step and page of the whole plan)
    resumes: products before its step are not read again, the rest is."""
    aha = AhaOrg(Org(7, "small"), features=300)
    sandbox = AhaSandbox(aha)
    secrets = add_aha_integration(database, config={"page_size": 20, "reconcile": False})
    sync(sandbox, database, secrets)  # everything stored; now pretend a legacy run stopped
    products = list(aha.products)
    run = RunState(
        mode="full",
        since=None,
        products=[[p.id, p.prefix] for p in products],
        step=6 * 2 + 4,  # the third product's features (ORDER: ... epics, features, ideas)
        page=2,
        windowed=False,
    )
    with database.engine.begin() as conn:
        (client_id, integration_id) = conn.execute(
            text("SELECT client_id, id FROM integrations")
        ).one()
        save_checkpoint(conn, client_id, integration_id, SCOPE, SyncState(run=run).to_json())
    sandbox.requests.clear()

    sync(sandbox, database, secrets)

    lists = [r.split("/products/")[1] for r in sandbox.requests if "/products/" in r]
    asked = {tuple(r.split("/")[:2]) for r in lists}
    third = products[2].id
    assert not {pid for pid, _ in asked} & {products[0].id, products[1].id}  # done: not again
    assert {res for pid, res in asked if pid == third} == {"features", "ideas"}  # from step 4
    assert {res for pid, res in asked if pid == products[3].id} == {
        "releases",
        "goals",
        "initiatives",
        "epics",
        "features",
        "ideas",
    }
    assert stored(database) == expected(aha)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"windows": 0}, "windows must be between 1 and 16"),
        ({"windows": 17}, "windows must be between 1 and 16"),
        ({"windows": "many"}, "invalid Aha! settings"),
    ],
)
def test_bad_window_settings_are_one_clear_error(config: dict[str, object], message: str) -> None:
    ref = IntegrationRef(1, "a", "aha", "https://x.aha.io", config)
    with pytest.raises(AhaConfigError, match=message):
        AhaSyncOptions.from_integration(ref)
