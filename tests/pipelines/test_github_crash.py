"""SIGKILL at random points: every interrupted-then-resumed sync converges to the rows of
an uninterrupted one (nothing lost, nothing duplicated)."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import Engine

from tests.pipelines.crash_trials import sigkill_trials
from tests.pipelines.github_crash_child import CONFIG
from tests.pipelines.github_support import add_github_integration, snapshot

TRIALS = int(os.environ.get("PULSE_GITHUB_CRASH_TRIALS", "4"))
"""SIGKILL trials (``PULSE_GITHUB_CRASH_TRIALS=20`` for the issue's twenty); the child walks
the org's repositories several at once (the default ``windows``)."""


@pytest.mark.slow
def test_sigkill_at_random_points_converges(pg_url: str) -> None:
    def prepare(engine: Engine) -> None:
        add_github_integration(engine, CONFIG)

    total, expected = sigkill_trials(
        pg_url,
        "tests.pipelines.github_crash_child",
        prepare,
        snapshot,
        trials=TRIALS,
        seed=20250301,
    )
    assert total > 10 and expected["pull_requests"]
    assert len(expected["repositories"]) > 1  # more than one window to resume
