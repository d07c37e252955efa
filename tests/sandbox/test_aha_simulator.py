"""The Aha! simulator: deterministic, documented shapes, paging, limits and changes."""

from __future__ import annotations

import datetime as dt
import json

import httpx

from connectors.sandbox.aha import DEMO_AHA_KEY, AhaMutation, AhaOrg, AhaSimulator
from connectors.sandbox.org import Org

AUTH = {"Authorization": f"Bearer {DEMO_AHA_KEY}"}


class _Clock:
    def __init__(self) -> None:
        self.t = 1_000_000.0

    def __call__(self) -> float:
        return self.t


def _get(sim: AhaSimulator, path: str, **params: str | int) -> httpx.Response:
    url = httpx.URL(f"https://sandbox.aha.io/api/v1/{path}", params=params)
    return sim.handle(httpx.Request("GET", url, headers=AUTH))


def _product_id(sim: AhaSimulator) -> str:
    return str(_get(sim, "products").json()["products"][0]["id"])


def test_the_same_seed_gives_the_same_bytes() -> None:
    a = AhaSimulator(AhaOrg(Org(9, "tiny"), features=120), enforce_limits=False)
    b = AhaSimulator(AhaOrg(Org(9, "tiny"), features=120), enforce_limits=False)
    pid = _product_id(a)
    fields = "reference_num,workflow_status_times,integration_fields,requirements,goals"

    first = _get(a, f"products/{pid}/features", fields=fields, per_page=200).content
    second = _get(b, f"products/{pid}/features", fields=fields, per_page=200).content

    assert first == second


def test_list_items_are_slim_unless_fields_are_named() -> None:
    sim = AhaSimulator(AhaOrg(Org(9, "tiny"), features=40), enforce_limits=False)
    pid = _product_id(sim)

    slim = _get(sim, f"products/{pid}/features").json()["features"][0]
    chosen = _get(sim, f"products/{pid}/features", fields="reference_num,votes,workflow_status")

    assert set(slim) == {"id", "reference_num", "name", "created_at", "url", "resource"}
    assert set(chosen.json()["features"][0]) == {"id", "reference_num", "workflow_status"}


def test_pages_carry_the_pagination_envelope_and_per_page_is_capped_at_200() -> None:
    sim = AhaSimulator(AhaOrg(Org(9, "tiny"), features=900), enforce_limits=False)
    pid = _product_id(sim)

    body = _get(sim, f"products/{pid}/features", per_page=500, page=2).json()
    past = _get(sim, f"products/{pid}/features", per_page=200, page=9).json()

    assert len(body["features"]) == 200
    assert body["pagination"] == {"total_records": 450, "total_pages": 3, "current_page": 2}
    assert past["features"] == [] and past["pagination"]["total_records"] == 450


def test_twenty_one_requests_in_a_second_meet_a_429_with_rate_limit_headers() -> None:
    clock = _Clock()
    sim = AhaSimulator(AhaOrg(Org(9, "tiny"), features=10), clock=clock)

    answers = [_get(sim, "me").status_code for _ in range(21)]
    refused = _get(sim, "me")
    clock.t += 1.0
    after_a_second = _get(sim, "me")

    assert answers[:20] == [200] * 20 and answers[20] == 429
    assert refused.status_code == 429
    assert refused.headers["X-Ratelimit-Limit"] == "20"
    assert refused.headers["X-Ratelimit-Remaining"] == "0"
    assert int(refused.headers["X-Ratelimit-Reset"]) > clock.t - 1
    assert after_a_second.status_code == 200


def test_three_hundred_and_one_requests_in_a_minute_meet_a_429() -> None:
    clock = _Clock()
    sim = AhaSimulator(AhaOrg(Org(9, "tiny"), features=10), clock=clock)
    statuses = []
    for _ in range(301):
        statuses.append(_get(sim, "me").status_code)
        clock.t += 0.1  # 10 a second: under the per-second limit

    assert statuses[:300] == [200] * 300 and statuses[300] == 429


def test_a_wrong_key_is_refused() -> None:
    sim = AhaSimulator(AhaOrg(Org(9, "tiny"), features=10))
    request = httpx.Request(
        "GET", "https://sandbox.aha.io/api/v1/me", headers={"Authorization": "Bearer x"}
    )

    answer = sim.handle(request)

    assert answer.status_code == 401 and "error" in json.loads(answer.content)


def test_updated_since_sees_changes_and_deleted_features_disappear() -> None:
    aha = AhaOrg(Org(9, "tiny"), features=80)
    sim = AhaSimulator(aha, enforce_limits=False)
    pid = _product_id(sim)
    changes = aha.apply(AhaMutation(update=5, create=2, delete=3))
    since = "2020-01-01T00:00:00Z"
    half_an_hour_ago = _iso(aha.now_ms - 30 * 60 * 1000)

    body = _get(sim, f"products/{pid}/features", per_page=200, updated_since=since).json()
    fresh = _get(
        sim,
        f"products/{pid}/features",
        per_page=200,
        fields="reference_num",
        updated_since=half_an_hour_ago,
    ).json()

    listed = {f["reference_num"] for f in body["features"]}
    assert not listed & set(changes.deleted)
    mine = {r for r in changes.updated + changes.created if aha.records[r].product == 0}
    assert {f["reference_num"] for f in fresh["features"]} == mine - set(changes.deleted)


def _iso(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
