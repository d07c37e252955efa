"""The Azure DevOps client: real payloads validate, URLs and auth are right, paging and
throttling signals are honoured."""

from __future__ import annotations

import base64
import csv
import json
from datetime import timedelta
from typing import Any

import httpx
import pytest

from connectors.azure_devops import (
    AzureDevOpsClient,
    WiqlTooManyResults,
    is_cloud,
    release_base_url,
)
from connectors.azure_devops.models import Build, PullRequest, WorkItem, WorkItemRevision
from connectors.errors import AuthError
from connectors.http import RateLimitPolicy, RateLimitWait, Secret
from connectors.http.gate import RateGate
from tests.connectors.fakes import FakeClock
from tests.fixtures_path import fixtures_root

csv.field_size_limit(10_000_000)


def _example(name: str) -> Any:
    path = fixtures_root() / "api_examples" / "azure_devops" / name
    return json.loads(path.read_text(encoding="utf-8-sig"))["responses"]["200"]["body"]


def _raw_rows(name: str) -> list[dict[str, Any]]:
    path = fixtures_root() / "devlake" / "azuredevops_go" / "e2e" / "raw_tables" / name
    with path.open(encoding="utf-8") as f:
        return [json.loads(row["data"]) for row in csv.DictReader(f)]


def test_microsoft_examples_validate() -> None:
    revisions = _example("GET__wit_reporting_workItemRevisions.json")
    assert [WorkItemRevision.model_validate(v).rev for v in revisions["values"]] == [1, 2, 1]
    batch = _example("POST__wit_WorkItemsBatch_ids-_ids__fields-_columns_.json")
    assert [WorkItem.model_validate(v).id for v in batch["value"]] == [297, 299, 300]
    prs = _example("GET__git_repositories__repositoryId__pullRequests.json")
    parsed = [PullRequest.model_validate(v) for v in prs["value"]]
    assert parsed[0].pull_request_id == 22 and parsed[0].reviewers[0].vote == 0


def test_devlake_recorded_builds_and_pull_requests_validate() -> None:
    builds = [Build.model_validate(b) for b in _raw_rows("_raw_azuredevops_go_api_builds.csv")]
    assert builds and all(b.queue_time and b.status for b in builds)
    prs = [
        PullRequest.model_validate(p)
        for p in _raw_rows("_raw_azuredevops_go_api_pull_requests.csv")
    ]
    assert prs and {p.status for p in prs} <= {"active", "completed", "abandoned"}


@pytest.mark.parametrize(
    ("base", "release"),
    [
        ("https://dev.azure.com/fabrikam", "https://vsrm.dev.azure.com/fabrikam"),
        ("https://fabrikam.visualstudio.com/", "https://fabrikam.vsrm.visualstudio.com"),
        (
            "https://tfs.example.com/tfs/DefaultCollection",
            "https://tfs.example.com/tfs/DefaultCollection",
        ),
    ],
)
def test_the_release_api_host_is_derived_from_the_base_url(base: str, release: str) -> None:
    assert release_base_url(base) == release
    assert is_cloud(base) == ("azure.com" in base or "visualstudio" in base)


class _Recorder:
    """A tiny scripted service: answers in order, remembers the requests."""

    def __init__(self, *answers: httpx.Response) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.answers.pop(0)


def _client(
    recorder: _Recorder, base: str = "https://dev.azure.com/fabrikam", **kw: Any
) -> AzureDevOpsClient:
    return AzureDevOpsClient.create(
        base, Secret("the-pat"), transport=httpx.MockTransport(recorder), **kw
    )


def test_pat_is_basic_with_an_empty_user_and_every_call_says_api_version_71() -> None:
    recorder = _Recorder(httpx.Response(200, json={"count": 0, "value": []}))
    with _client(recorder) as client:
        client.projects()
    sent = recorder.requests[0]
    assert sent.headers["Authorization"] == "Basic " + base64.b64encode(b":the-pat").decode()
    assert sent.url.params["api-version"] == "7.1"
    assert sent.url.path == "/fabrikam/_apis/projects"


def test_release_calls_go_to_the_vsrm_host_on_services() -> None:
    recorder = _Recorder(httpx.Response(200, json={"count": 0, "value": []}))
    with _client(recorder) as client:
        client.release_deployments_page("Fabrikam Fiber")
    assert recorder.requests[0].url.host == "vsrm.dev.azure.com"
    assert recorder.requests[0].url.raw_path.startswith(
        b"/fabrikam/Fabrikam%20Fiber/_apis/release/"
    )


def test_continuation_tokens_are_followed_from_the_header() -> None:
    first = httpx.Response(
        200,
        json={"count": 1, "value": [{"id": "a", "name": "A"}]},
        headers={"x-ms-continuationtoken": "tok-2"},
    )
    second = httpx.Response(200, json={"count": 1, "value": [{"id": "b", "name": "B"}]})
    recorder = _Recorder(first, second)
    with _client(recorder) as client:
        assert [p.name for p in client.projects()] == ["A", "B"]
    assert recorder.requests[1].url.params["continuationToken"] == "tok-2"


def test_a_203_sign_in_page_is_an_authentication_failure() -> None:
    page = httpx.Response(203, text="<html>Sign In</html>", headers={"content-type": "text/html"})
    with _client(_Recorder(page)) as client:
        check = client.test_connection()
    assert not check.ok and check.title == "Authentication failed"
    assert "sign-in page" in check.message and "the-pat" not in check.message
    with _client(_Recorder(page)) as client, pytest.raises(AuthError):
        client.projects()


def test_wiql_over_the_limit_raises_a_typed_error() -> None:
    refused = httpx.Response(
        400,
        json={
            "message": "VS402337: The number of work items returned exceeds the size limit "
            "of 20000. Change the query to return fewer work items."
        },
    )
    with _client(_Recorder(refused)) as client, pytest.raises(WiqlTooManyResults):
        client.changed_ids("P", None, None)


def test_retry_after_on_a_successful_answer_is_waited_before_the_next_call() -> None:
    slow_down = httpx.Response(
        200,
        json={"count": 0, "value": []},
        headers={
            "Retry-After": "0.01",
            "X-RateLimit-Remaining": "12",
            "X-RateLimit-Limit": "200",
            "X-RateLimit-Resource": "ATCPU",
            "X-RateLimit-Delay": "0.25",
        },
    )
    events: list[Any] = []
    with _client(_Recorder(slow_down), rate_limit=RateLimitPolicy(max_wait_seconds=5)) as client:
        client.set_observer(events.append)
        client.projects()
        throttle = client.throttle()
    assert [type(e) for e in events] == [RateLimitWait]
    assert throttle.delayed_responses == 1 and throttle.delay_seconds == 0.25
    assert throttle.remaining == 12 and throttle.resource == "ATCPU"


def test_retry_after_on_a_successful_answer_pauses_every_chain_of_the_identity() -> None:
    """A Retry-After on a 200 is the identity's, not one chain's: the shared gate pauses
    every other client (window) of it until then, without counting a 429."""
    slow_down = httpx.Response(200, json={"count": 0, "value": []}, headers={"Retry-After": "30"})
    clock = FakeClock()
    gate = RateGate()
    policy = RateLimitPolicy(max_wait_seconds=60)
    with _client(_Recorder(slow_down), gate=gate, clock=clock, rate_limit=policy) as client:
        client.projects()
    assert gate.paused_until == FakeClock().now() + timedelta(seconds=30)
    assert gate.limited == 0
    other = _Recorder(httpx.Response(200, json={"count": 0, "value": []}))
    later = FakeClock()  # another window, whose clock has not moved
    with _client(other, gate=gate, clock=later, rate_limit=policy) as client:
        client.projects()
    assert later.now() - FakeClock().now() >= timedelta(seconds=30)  # it waited its turn


def test_the_pat_never_shows_in_the_client_repr() -> None:
    with _client(_Recorder()) as client:
        assert "the-pat" not in repr(client) + repr(client.http) + repr(client.http.config)
