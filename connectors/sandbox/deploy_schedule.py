"""When each repository deploys: a fixed cadence per environment, jittered per slot.

A deployment is a pure function of (seed, repository, environment, slot), so the issue
generator can ask "which production deployment precedes this moment?" without generating
deployments, and incidents can be placed right after failed ones.
"""

from __future__ import annotations

import enum

from connectors.sandbox.seeding import STREAM_DEPLOYMENT, unit
from connectors.sandbox.timefmt import DAY_MS, HOUR_MS


class Environment(enum.IntEnum):
    PRODUCTION = 0
    STAGING = 1

    @property
    def label(self) -> str:
        return self.name.lower()

    @property
    def interval_ms(self) -> int:
        return DAY_MS if self is Environment.PRODUCTION else 6 * HOUR_MS


def _stream_index(repo: int, env: Environment) -> int:
    return repo * 4 + int(env)


def slot_time(seed: int, start_ms: int, repo: int, env: Environment, slot: int) -> int:
    """Creation time of deployment ``slot``: cadence start plus up to a third of a period."""
    jitter = unit(seed, STREAM_DEPLOYMENT, _stream_index(repo, env), slot)
    return start_ms + slot * env.interval_ms + int(jitter * env.interval_ms / 3)


def slot_count(start_ms: int, until_ms: int, env: Environment) -> int:
    """How many slots have *started* by ``until_ms`` (the last may still lie after it)."""
    if until_ms < start_ms:
        return 0
    return (until_ms - start_ms) // env.interval_ms + 1


def slot_before(seed: int, start_ms: int, repo: int, env: Environment, at_ms: int) -> int | None:
    """The latest slot created strictly before ``at_ms``."""
    slot = slot_count(start_ms, at_ms, env) - 1
    while slot >= 0 and slot_time(seed, start_ms, repo, env, slot) >= at_ms:
        slot -= 1
    return slot if slot >= 0 else None


def base_failed(seed: int, repo: int, env: Environment, slot: int) -> bool:
    """Whether a slot fails on its own (about one in ten), before incidents force failures."""
    return unit(seed, STREAM_DEPLOYMENT, _stream_index(repo, env), slot + 1_000_000) < 0.1
