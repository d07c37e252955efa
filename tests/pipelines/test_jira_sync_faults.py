"""Faults from the sandbox end in a successful sync or a typed, resumable failure."""

from __future__ import annotations

import json
import logging

import httpx
import pytest
from sqlalchemy import text

from connectors.errors import Cancelled, RateLimited, TransportError
from connectors.http import RateLimitPolicy
from connectors.http.cancel import CancelToken
from connectors.http.gate import forget_gates
from connectors.sandbox.credentials import DEMO_JIRA
from connectors.sandbox.faults import ErrorBursts, FaultScenario, RateLimit, Timeouts, Trigger
from connectors.sandbox.org import Org
from pulse_console.pipelines.base import Progress
from pulse_console.pipelines.jira.extract import JiraSyncError
from pulse_console.pipelines.jira.state import SCOPE
from pulse_console.pipelines.quarantine import RAW_LIMIT
from storage.db import Database
from tests.pipelines.harness import (
    Sandbox,
    add_integration,
    context,
    expected,
    stored,
    sync,
    table_counts,
)

PAGE = {"page_size": 20}


def checkpoint(database: Database) -> dict[str, object]:
    with database.engine.connect() as conn:
        state = conn.execute(
            text("SELECT state FROM checkpoints WHERE scope = :s"), {"s": SCOPE}
        ).scalar_one()
    return dict(state)


def test_5xx_bursts_are_retried_and_the_sync_completes(database: Database) -> None:
    org = Org(7, "tiny")
    # Dev-status calls run several at once; per_request keeps any one request's streak
    # within the client's attempts however the others interleave.
    bursts = ErrorBursts(every=7, length=3, per_request=3)
    sandbox = Sandbox(org, FaultScenario(seed=1, errors=bursts))
    secrets = add_integration(database, config=PAGE)
    result = sync(sandbox, database, secrets)
    assert sandbox.injector.counters.errors > 10
    assert result.retries >= sandbox.injector.counters.errors
    assert stored(database) == expected(org)


def test_timeouts_and_resets_are_retried(database: Database) -> None:
    org = Org(7, "tiny")
    scenario = FaultScenario(seed=2, timeouts=Timeouts(every=9), resets=Trigger(every=13))
    sandbox = Sandbox(org, scenario)
    secrets = add_integration(database, config=PAGE)
    sync(sandbox, database, secrets)
    assert sandbox.injector.counters.timeouts > 0 and sandbox.injector.counters.resets > 0
    assert stored(database) == expected(org)


def test_short_429s_are_waited_out_and_reported_with_their_reset_time(database: Database) -> None:
    org = Org(7, "tiny")
    scenario = FaultScenario(rate_limit=RateLimit(after_requests=15, window_seconds=30))
    sandbox = Sandbox(org, scenario)
    secrets = add_integration(database, config=PAGE)
    progress: list[Progress] = []
    result = sandbox.pipeline().run(context(database, secrets, progress=progress))
    assert sandbox.injector.counters.rate_limited > 0
    assert result.rate_limit_waits > 0
    assert any(p.rate_limit_until is not None for p in progress)
    assert stored(database) == expected(org)


def test_a_long_rate_limit_raises_rate_limited_and_the_next_run_resumes(
    database: Database,
) -> None:
    org = Org(7, "tiny")
    scenario = FaultScenario(rate_limit=RateLimit(after_requests=24, window_seconds=600))
    sandbox = Sandbox(org, scenario)
    secrets = add_integration(database, config=PAGE)
    pipeline = sandbox.pipeline(rate_limit=RateLimitPolicy(max_wait_seconds=60))
    with pytest.raises(RateLimited) as caught:
        pipeline.run(context(database, secrets))
    assert caught.value.reset_at is not None
    state = checkpoint(database)
    assert state["run"] is not None, "the interrupted run is resumable"
    committed = table_counts(database)["work_items"]
    assert 0 < committed < org.spec.issues

    forget_gates()  # the reset time has passed: the account's back-off with it
    result = sync(Sandbox(org), database, secrets)  # after the reset
    assert result.stats["mode"] == "full"
    assert stored(database) == expected(org)


def test_malformed_json_is_quarantined_raw_and_the_sync_goes_on(database: Database) -> None:
    org = Org(7, "tiny")
    scenario = FaultScenario(seed=3, malformed=Trigger(every=10), truncated=Trigger(every=17))
    sandbox = Sandbox(org, scenario)
    secrets = add_integration(database, config=PAGE)
    result = sync(sandbox, database, secrets)
    faults = sandbox.injector.counters
    with database.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT entity, error, raw_text, run_id FROM quarantined_payloads")
        ).all()
    assert len(rows) == faults.malformed + faults.truncated == result.stats["quarantined"]
    assert faults.malformed > 0
    # Kept as received, up to RAW_LIMIT: which request the fault hits depends on the order
    # of concurrent requests, and a search page can pass the limit, its stray token with it.
    assert any("garbage" in r.raw_text or len(r.raw_text) == RAW_LIMIT for r in rows)
    assert all(r.error and r.run_id == 1 for r in rows)
    assert stored(database) == expected(org)


def test_malformed_items_inside_a_valid_page_are_quarantined_one_by_one(
    database: Database,
) -> None:
    org = Org(7, "tiny")
    sandbox = Sandbox(org)
    real = sandbox.simulator.handle

    def break_one_issue(request: httpx.Request) -> httpx.Response:
        response = real(request)
        if request.url.path.endswith("/search/jql") and b'"changelog"' in request.content:
            body = json.loads(response.content)
            for issue in body["issues"]:
                if issue["id"] == "10010":
                    issue["fields"]["created"] = "not a date"
            return httpx.Response(200, json=body)
        return response

    sandbox.simulator.handle = break_one_issue  # type: ignore[method-assign]
    secrets = add_integration(database, config=PAGE)
    result = sync(sandbox, database, secrets)
    with database.engine.connect() as conn:
        entities = conn.execute(text("SELECT entity FROM quarantined_payloads")).scalars().all()
    # Quarantined in its page, and again when reconciliation asks for the missing id.
    assert entities == ["issue", "issue"] and result.stats["quarantined"] == 2
    got = stored(database).issues
    assert "10010" not in got and len(got) == org.spec.issues - 1


def test_persistent_5xx_fails_typed_and_a_later_run_resumes(database: Database) -> None:
    org = Org(7, "tiny")
    sandbox = Sandbox(org)
    real = sandbox.simulator.handle
    searches = []

    def down_after_first_page(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/search/jql"):
            searches.append(request)
            if len(searches) > 1:
                return httpx.Response(503, json={"errorMessages": ["down"]})
        return real(request)

    sandbox.simulator.handle = down_after_first_page  # type: ignore[method-assign]
    secrets = add_integration(database, config=PAGE)
    with pytest.raises(TransportError):
        sync(sandbox, database, secrets)
    assert checkpoint(database)["run"] is not None
    sync(Sandbox(org), database, secrets)
    assert stored(database) == expected(org)


def test_cancellation_is_honoured_between_pages_and_the_next_run_resumes(
    database: Database,
) -> None:
    org = Org(7, "tiny")  # 60 issues in two projects: 12 pages of 5, two windows
    sandbox = Sandbox(org)
    secrets = add_integration(database, config={"page_size": 5})
    cancel = CancelToken()
    progress: list[Progress] = []

    def report(p: Progress) -> None:
        progress.append(p)
        if p.phase == "loading" and p.done >= 5:
            cancel.cancel()

    ctx = context(database, secrets, cancel=cancel)
    ctx.report = report
    with pytest.raises(Cancelled):
        sandbox.pipeline().run(ctx)
    # The writer commits every page ready at once (at most a few per window), then nothing
    # after the cancel: what it reported loaded is exactly what is stored.
    loaded = [p.done for p in progress if p.phase == "loading"]
    assert table_counts(database)["work_items"] == loaded[-1]
    assert 5 <= loaded[-1] < 60
    state = checkpoint(database)
    assert state["run"] is not None and state["run"]["windows"]  # type: ignore[index]
    with database.engine.connect() as conn:
        pages = conn.execute(
            text("SELECT sum((state->>'pages')::int) FROM checkpoints WHERE scope LIKE :w"),
            {"w": f"{SCOPE}:w%"},
        ).scalar_one()
    assert 1 <= pages < 12  # the committed pages, in their windows' checkpoints

    sandbox.requests.clear()
    sync(sandbox, database, secrets)
    assert stored(database) == expected(org)


def test_missing_token_is_a_clear_error(database: Database) -> None:
    org = Org(7, "tiny")
    secrets = add_integration(database)
    secrets.values.clear()
    with pytest.raises(JiraSyncError, match="No API token is stored"):
        sync(Sandbox(org), database, secrets)


def test_the_token_never_reaches_logs_quarantine_results_or_checkpoints(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    org = Org(7, "tiny")
    scenario = FaultScenario(seed=5, errors=ErrorBursts(every=5), malformed=Trigger(every=11))
    sandbox = Sandbox(org, scenario)
    secrets = add_integration(database, config=PAGE)
    caplog.set_level(logging.DEBUG)
    log = logging.getLogger("test.jira")
    result = sandbox.pipeline().run(context(database, secrets, log=log))
    token = DEMO_JIRA.api_token
    assert caplog.records and token not in caplog.text
    assert token not in repr(result) and token not in str(checkpoint(database))
    with database.engine.connect() as conn:
        dumped = conn.execute(
            text("SELECT string_agg(raw_text || error, '') FROM quarantined_payloads")
        ).scalar_one()
        config = conn.execute(text("SELECT config::text FROM integrations")).scalar_one()
    assert dumped and token not in dumped and token not in config
