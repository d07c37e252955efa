"""The Jira client against the Jira Cloud simulator: the connector cannot tell it apart."""

from __future__ import annotations

import httpx
import pytest

from connectors.errors import AuthError
from connectors.http import Secret
from connectors.jira import JiraClient
from connectors.sandbox.credentials import DEMO_JIRA
from connectors.sandbox.jira import JiraSimulator
from connectors.sandbox.org import Org

BASE = "https://sandbox.atlassian.net"


@pytest.fixture(scope="module")
def simulator() -> JiraSimulator:
    return JiraSimulator(Org(7, "tiny"), DEMO_JIRA)


def client(sim: JiraSimulator, token: str) -> JiraClient:
    return JiraClient.cloud(
        BASE, DEMO_JIRA.email, Secret(token), transport=httpx.MockTransport(sim.handle)
    )


def test_test_connection_succeeds_with_the_right_token(simulator: JiraSimulator) -> None:
    with client(simulator, DEMO_JIRA.api_token) as jira:
        check = jira.test_connection()
    assert check.ok, check.message


def test_a_wrong_token_fails_the_check_without_echoing_it(simulator: JiraSimulator) -> None:
    with client(simulator, "wrong-token-123") as jira:
        check = jira.test_connection()
        with pytest.raises(AuthError) as info:
            jira.myself()
    assert not check.ok
    assert "wrong-token-123" not in check.message + str(info.value)


def test_full_walk_returns_every_issue_once(simulator: JiraSimulator) -> None:
    with client(simulator, DEMO_JIRA.api_token) as jira:
        keys = [p.key for p in jira.iter_projects()]
        jql = f"project in ({', '.join(keys)}) ORDER BY updated ASC"
        ids = [issue.id for page in jira.iter_search(jql, max_results=7) for issue in page.issues]
    assert len(ids) == len(set(ids)) == simulator.org.issue_count
