"""Building GitHub clients against the simulator with a clock that never sleeps."""

from __future__ import annotations

from typing import Any

import httpx

from connectors.github import GitHubClient
from connectors.http import RateLimitPolicy, RetryPolicy, Secret
from connectors.sandbox.credentials import DEMO_GITHUB_TOKEN
from connectors.sandbox.github import GitHubSimulator
from connectors.sandbox.org import Org
from tests.connectors.fakes import FakeClock

NO_JITTER = RetryPolicy(max_attempts=4, base_delay=0.5, rng=lambda lo, hi: hi)


def simulator(org: Org, clock: FakeClock, **options: Any) -> GitHubSimulator:
    """A simulator (and its fault injector, for a ``faults=`` scenario) on ``clock``."""
    return GitHubSimulator(org, clock=lambda: clock.now().timestamp(), **options)


def client_for(
    sim: GitHubSimulator,
    clock: FakeClock,
    tokens: tuple[str, ...] = (DEMO_GITHUB_TOKEN,),
    *,
    max_wait: float = 3600.0,
    base_url: str = "https://api.github.com",
    **options: Any,
) -> GitHubClient:
    return GitHubClient.create(
        [Secret(t) for t in tokens],
        base_url,
        transport=httpx.MockTransport(sim.handle),
        clock=clock,
        retry=NO_JITTER,
        rate_limit=RateLimitPolicy(max_wait_seconds=max_wait),
        **options,
    )
