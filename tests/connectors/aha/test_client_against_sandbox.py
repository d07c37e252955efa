"""The Aha! client against the simulator: bulk lists, paging, pacing, 429s and its key."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from connectors.aha import FEATURES, IDEAS, RELEASES, AhaClient
from connectors.errors import AuthError
from connectors.http import RateLimitPolicy, RequestBudget, Secret
from connectors.sandbox.aha import DEMO_AHA_KEY, AhaMutation, AhaOrg, AhaSimulator
from connectors.sandbox.org import Org
from tests.connectors.fakes import FakeClock


def _client(
    sim: AhaSimulator, clock: FakeClock, key: str = DEMO_AHA_KEY, **options: object
) -> AhaClient:
    return AhaClient.connect(
        "https://sandbox.aha.io",
        Secret(key),
        transport=httpx.MockTransport(sim.handle),
        clock=clock,
        **options,
    )


def _sandbox(features: int = 450) -> tuple[AhaOrg, AhaSimulator, FakeClock]:
    clock = FakeClock()
    aha = AhaOrg(Org(5, "tiny"), features=features)
    return aha, AhaSimulator(aha, clock=lambda: clock.now().timestamp()), clock


def test_a_feature_list_page_carries_whole_records_two_hundred_at_a_time() -> None:
    aha, sim, clock = _sandbox()
    client = _client(sim, clock)
    product = next(client.iter_products())

    page = client.list_page(FEATURES, product.id)

    assert len(page.items) == 200 and not page.rejected
    assert page.pagination.total_records == len(aha.live("feature", 0))
    feature = next(f for f in page.items if f.requirements and f.integration_fields)
    assert feature.workflow_status is not None and feature.workflow_status_times
    assert feature.release is not None and feature.reference_num.startswith(
        product.reference_prefix
    )
    assert {f.name for f in feature.integration_fields} == {"key", "url"}
    assert client.counters().requests == 2  # the product list, then one page


def test_paging_walks_to_the_last_page_and_a_page_past_it_is_empty() -> None:
    aha, sim, clock = _sandbox()
    client = _client(sim, clock)
    product = next(client.iter_products())
    total = len(aha.live("feature", 0))

    pages = [client.list_page(FEATURES, product.id, page=n, per_page=100) for n in (1, 2, 3)]
    beyond = client.list_page(FEATURES, product.id, page=99, per_page=100)

    assert sum(len(p.items) for p in pages) == total
    assert pages[-1].is_last and not pages[0].is_last
    assert beyond.items == [] and beyond.pagination.total_records == total


def test_updated_since_returns_only_what_changed() -> None:
    aha, sim, clock = _sandbox()
    client = _client(sim, clock)
    product = next(client.iter_products())
    before = client.list_page(FEATURES, product.id)
    newest = max(f.updated_at for f in before.items if f.updated_at)
    changes = aha.apply(AhaMutation(update=6, create=3))

    page = client.list_page(FEATURES, product.id, updated_since=newest + timedelta(seconds=1))

    refs = {f.reference_num for f in page.items}
    mine = {r for r in changes.updated + changes.created if aha.records[r].product == 0}
    assert refs == mine


def test_pacing_never_meets_a_429_over_hundreds_of_requests() -> None:
    """500 calls: well past 20 in a second and 300 in a minute, on the simulator's clock."""
    _, sim, clock = _sandbox(features=100)
    client = _client(sim, clock)
    product = next(client.iter_products())

    for n in range(500):
        client.list_page(RELEASES, product.id, page=1 + n % 3, per_page=2)

    assert sim.rate_limited == 0
    assert client.counters().by_status == {200: 501}
    assert clock.sleeps and sum(clock.sleeps) >= 60  # it waited for the minute window


def test_without_pacing_the_limits_answer_429_and_the_stack_waits_them_out() -> None:
    _, sim, clock = _sandbox(features=100)
    client = _client(
        sim, clock, budget=RequestBudget(), rate_limit=RateLimitPolicy(max_wait_seconds=120)
    )
    product = next(client.iter_products())

    for _ in range(60):
        client.list_page(IDEAS, product.id, per_page=1)

    assert sim.rate_limited > 0
    counters = client.counters()
    assert counters.rate_limit_waits == sim.rate_limited
    assert counters.by_status[200] == 61


def test_a_wrong_key_is_an_auth_error_that_never_shows_the_key() -> None:
    _, sim, clock = _sandbox(features=10)
    wrong = "not-" + DEMO_AHA_KEY
    client = _client(sim, clock, key=wrong)

    check = client.test_connection()
    with pytest.raises(AuthError) as refused:
        client.me()

    assert not check.ok
    for text in (check.message, str(refused.value), repr(client), repr(client.http.config)):
        assert wrong not in text


def test_connection_check_names_the_user_and_the_products() -> None:
    _, sim, clock = _sandbox(features=10)

    check = _client(sim, clock).test_connection()

    assert check.ok and "Sandbox Demo" in check.message and "2 product(s)" in check.message
