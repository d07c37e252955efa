"""What keeps a poller's request cheap without loosening who may read what: the token cache
(a revoked token still refused within a second), the jobs list made once per token role
with an ETag, and sockets without per-message compression."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable

import httpx
import pytest
from websockets.sync.client import connect as ws_connect

from pulse_console.api import progress
from pulse_console.api.authz import TokenCache
from pulse_console.api.server import ApiServer
from pulse_console.services import api_tokens
from pulse_console.services.api_tokens import Caller
from storage.db import Database
from tests.api.conftest import CLIENT, OTHER, Api, serve
from tests.api.test_progress_ws import bearer, ws_url
from tests.engine.conftest import add_jobs

VIEWER = Caller(name="v", client=CLIENT, role="viewer", db_role="r")


def viewer_of(server: ApiServer, api: Api) -> httpx.Client:
    """A client of `server` (one of the test's own) with the viewer token."""
    headers = {"Authorization": f"Bearer {api.tokens['viewer']}"}
    return httpx.Client(base_url=server.url, headers=headers, timeout=30)


def counting(found: Caller | None) -> tuple[Callable[[str], Caller | None], list[str]]:
    asked: list[str] = []

    def lookup(token: str) -> Caller | None:
        asked.append(token)
        return found

    return lookup, asked


def test_a_cached_token_costs_one_stamp_query_a_period_not_a_lookup_a_request() -> None:
    lookup, asked = counting(VIEWER)
    stamps: list[int] = []
    cache = TokenCache(lookup, 3600.0, stamp=lambda: stamps.append(1) or (1, 1, 0))
    assert [cache.caller("t") for _ in range(3)] == [VIEWER] * 3
    assert [cache.recent("t") for _ in range(100)] == [VIEWER] * 100
    assert (asked, len(stamps)) == (["t"], 1)


def test_a_changed_stamp_forgets_every_cached_caller() -> None:
    lookup, asked = counting(VIEWER)
    stamp = [(1, 1, 0)]
    cache = TokenCache(lookup, 0.0, stamp=lambda: stamp[0])  # asked at every call
    cache.caller("a")
    cache.caller("b")
    cache.caller("a")
    assert asked == ["a", "b"]
    stamp[0] = (1, 1, 1)  # a token was revoked
    cache.caller("a")
    assert asked == ["a", "b", "a"] and cache.generation == 2


def test_requests_of_one_moment_share_one_stamp_query() -> None:
    lookup, asked = counting(VIEWER)
    stamps: list[int] = []

    def stamp() -> tuple[int, int, int]:
        stamps.append(1)
        time.sleep(0.05)  # the query takes a moment; every request arrives in it
        return (1, 1, 0)

    cache = TokenCache(lookup, 3600.0, stamp=stamp)
    cache.caller("t")  # cached, and the stamp asked

    async def poll() -> list[Caller | None]:
        cache._checked = -math.inf  # the stamp is due
        return await asyncio.gather(*(cache.current("t") for _ in range(50)))

    assert asyncio.run(poll()) == [VIEWER] * 50
    assert (asked, len(stamps)) == (["t"], 2)


def test_a_lookup_the_stamp_changed_under_is_not_kept() -> None:
    stamp = [(1, 1, 0)]
    cache: TokenCache

    def lookup(token: str) -> Caller | None:
        stamp[0] = (1, 1, 1)  # revoked while it was being looked up …
        cache.check()  # … and another request noticed
        return VIEWER

    cache = TokenCache(lookup, 0.0, stamp=lambda: stamp[0])
    assert cache.caller("t") == VIEWER  # this request was in before the revocation
    assert cache.recent("t") is None  # but its answer is not trusted for the next


def test_a_polled_token_revoked_is_refused_within_the_stamp_period(
    api: Api, database: Database
) -> None:
    server = serve(api.face, token_seconds=0.2, rate=1000, burst=1000)
    try:
        with viewer_of(server, api) as http:
            assert http.get(api.path("/jobs")).status_code == 200  # its caller cached
            assert http.get(api.path("/jobs")).status_code == 200
            api_tokens.revoke(database, CLIENT, "viewer", actor="t")
            deadline = time.monotonic() + 30  # not a timing: 0.2 s is expected
            while (answer := http.get(api.path("/jobs"))).status_code == 200:
                assert time.monotonic() < deadline, "a revoked token still answered"
                time.sleep(0.05)
        assert answer.status_code == 401
        assert answer.json()["detail"] == "the API token is unknown or revoked"
    finally:
        server.stop()


def test_the_jobs_list_has_an_etag_and_an_unchanged_list_is_304(
    api: Api, database: Database
) -> None:
    add_jobs(database, CLIENT, ["tickets"])
    with api.http("viewer") as http:
        first = http.get(api.path("/jobs"))
        etag = first.headers["etag"]
        same = http.get(api.path("/jobs"), headers={"If-None-Match": etag})
        other = http.get(api.path("/jobs"), headers={"If-None-Match": '"x", W/' + etag})
        stale = http.get(api.path("/jobs"), headers={"If-None-Match": '"x"'})
    assert first.status_code == 200 and [j["name"] for j in first.json()] == ["tickets"]
    assert (same.status_code, same.content, same.headers["etag"]) == (304, b"", etag)
    assert other.status_code == 304
    assert (stale.status_code, stale.json()) == (200, first.json())
    add_jobs(database, CLIENT, ["code"])
    # (no event says so here: the cached status ages out, STATUS_SECONDS)
    with api.http("viewer") as http:
        deadline = time.monotonic() + 30
        while (
            later := http.get(api.path("/jobs"), headers={"If-None-Match": etag})
        ).status_code == 304:
            assert time.monotonic() < deadline, "the jobs list never changed"
            time.sleep(0.1)
    assert later.status_code == 200 and later.headers["etag"] != etag
    assert sorted(j["name"] for j in later.json()) == ["code", "tickets"]


def test_a_socket_is_not_compressed_per_message(api: Api) -> None:
    with ws_connect(ws_url(api, "/progress"), additional_headers=bearer(api, "viewer")) as ws:
        assert ws.response is not None
        assert "Sec-WebSocket-Extensions" not in ws.response.headers


def test_a_repeated_jobs_poll_is_answered_from_memory_and_still_rate_limited(
    api: Api, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(progress, "STATUS_SECONDS", 3600.0)  # the list stays fresh
    add_jobs(database, CLIENT, ["tickets"])
    server = serve(api.face, rate=0.001, burst=3)
    routed = counted_route(monkeypatch, server.app.state.hub)
    try:
        with viewer_of(server, api) as http:
            answers = [http.get(api.path("/jobs")) for _ in range(4)]
            with httpx.Client(base_url=server.url, timeout=30) as anonymous:
                refused = anonymous.get(api.path("/jobs"))
    finally:
        server.stop()
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert routed == [CLIENT]  # the first through the route; the next from memory
    assert answers[1].content == answers[0].content
    assert answers[1].headers["etag"] == answers[0].headers["etag"]
    assert answers[3].headers["retry-after"] and answers[3].json()["status"] == 429
    assert refused.status_code == 401  # no token: the route answers, as ever


def test_a_token_of_another_client_is_refused_though_its_own_list_is_in_memory(
    api: Api,
) -> None:
    with api.http("other") as http:
        own = [http.get(api.path("/jobs", OTHER)).status_code for _ in range(3)]
        refused = http.get(api.path("/jobs"))
    with api.http("viewer") as http:
        assert http.get(api.path("/jobs")).status_code == 200
    with api.http("other") as http:
        again = http.get(api.path("/jobs"))
    assert own == [200, 200, 200]
    assert refused.status_code == again.status_code == 403


def counted_route(monkeypatch: pytest.MonkeyPatch, hub: progress.ProgressHub) -> list[str]:
    """The clients of the jobs lists that went down the route (not answered from memory)."""
    routed: list[str] = []
    through_route = hub.jobs

    async def jobs(client: str, caller: Caller) -> object:
        routed.append(client)
        return await through_route(client, caller)

    monkeypatch.setattr(hub, "jobs", jobs)
    return routed


def test_a_status_due_is_read_in_the_background_while_polls_get_the_last_one(
    api: Api, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(progress, "STATUS_SECONDS", 0.0)  # always due to be read again
    monkeypatch.setattr(progress, "STALE_SECONDS", 3600.0)
    add_jobs(database, CLIENT, ["tickets"])
    server = serve(api.face, rate=1000, burst=1000)
    routed = counted_route(monkeypatch, server.app.state.hub)
    try:
        with viewer_of(server, api) as http:
            first = http.get(api.path("/jobs")).json()
            add_jobs(database, CLIENT, ["code"])
            deadline = time.monotonic() + 30
            while len(later := http.get(api.path("/jobs")).json()) == 1:
                assert time.monotonic() < deadline, "the status was never read again"
                time.sleep(0.05)
    finally:
        server.stop()
    assert [j["name"] for j in first] == ["tickets"]
    assert sorted(j["name"] for j in later) == ["code", "tickets"]
    assert routed == [CLIENT]  # read again in the background: no poll went down the route


def test_a_status_too_old_to_answer_from_is_read_by_the_route(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(progress, "STALE_SECONDS", 0.0)
    server = serve(api.face, rate=1000, burst=1000)
    routed = counted_route(monkeypatch, server.app.state.hub)
    try:
        with viewer_of(server, api) as http:
            codes = [http.get(api.path("/jobs")).status_code for _ in range(3)]
    finally:
        server.stop()
    assert codes == [200, 200, 200] and routed == [CLIENT] * 3
