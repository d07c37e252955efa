"""A tiny scripted Jira: answers by (method, path) in order, and records requests.

Deliberately not a simulator (that is ``connectors/sandbox``): each test scripts exactly the
responses its scenario needs.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

import httpx

from connectors.http import RetryPolicy, Secret
from connectors.jira import JiraClient
from tests.connectors.fakes import FakeClock

BASE = "https://acme.atlassian.net"
TOKEN = "jira-api-token-XYZ"


class ScriptedJira:
    def __init__(self) -> None:
        self._answers: dict[tuple[str, str], list[httpx.Response]] = defaultdict(list)
        self.requests: list[httpx.Request] = []

    def add(self, method: str, path: str, body: Any = None, status: int = 200) -> ScriptedJira:
        self._answers[(method, path)].append(httpx.Response(status, json=body))
        return self

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        queue = self._answers.get((request.method, request.url.path))
        if not queue:
            raise AssertionError(f"unscripted request {request.method} {request.url}")
        return queue.pop(0)

    def calls(self, method: str, path: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.method == method and r.url.path == path]

    def bodies(self, method: str, path: str) -> list[Any]:
        return [json.loads(r.content) for r in self.calls(method, path)]

    def remaining(self) -> int:
        return sum(len(q) for q in self._answers.values())


def cloud_client(script: ScriptedJira, **options: Any) -> JiraClient:
    options.setdefault("clock", FakeClock())
    options.setdefault("retry", RetryPolicy(max_attempts=2, rng=lambda lo, hi: 0.0))
    return JiraClient.cloud(
        BASE, "ada@example.com", Secret(TOKEN), transport=httpx.MockTransport(script), **options
    )


def dc_client(script: ScriptedJira, **options: Any) -> JiraClient:
    options.setdefault("clock", FakeClock())
    return JiraClient.data_center(
        "https://jira.acme.internal/jira",
        Secret(TOKEN),
        transport=httpx.MockTransport(script),
        **options,
    )
