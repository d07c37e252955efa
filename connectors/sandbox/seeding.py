"""Deterministic per-entity randomness.

Every generated entity draws from its own stream, keyed by (seed, kind, index), so entity
``i`` can be produced without producing entities ``0..i-1``: paging through 100,000 issues
costs O(page), and two runs with the same seed give the same bytes. Python's ``hash()`` is
not used because string hashing is salted per process.
"""

from __future__ import annotations

import random

_MASK = (1 << 64) - 1


def mix64(*parts: int) -> int:
    """SplitMix64-style finaliser folded over ``parts``: a cheap, well-spread 64-bit hash."""
    h = 0x9E3779B97F4A7C15
    for part in parts:
        h = (h ^ (part & _MASK)) & _MASK
        h = (h + 0x9E3779B97F4A7C15) & _MASK
        h = ((h ^ (h >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
        h = ((h ^ (h >> 27)) * 0x94D049BB133111EB) & _MASK
        h ^= h >> 31
    return h


# Stream identifiers: one per kind of entity, so streams never overlap.
STREAM_ISSUE_SKELETON = 1
STREAM_ISSUE_DETAIL = 2
STREAM_USER = 3
STREAM_PROJECT = 4
STREAM_PULL_REQUEST = 5
STREAM_DEPLOYMENT = 6
STREAM_REPOSITORY = 7
STREAM_MUTATION = 8
STREAM_FAULTS = 9


def unit(seed: int, stream: int, index: int, salt: int = 0) -> float:
    """A uniform float in [0, 1) — cheaper than building a ``random.Random``."""
    return (mix64(seed, stream, index, salt) >> 11) / float(1 << 53)


def rng(seed: int, stream: int, index: int) -> random.Random:
    """A private ``random.Random`` for one entity."""
    return random.Random(mix64(seed, stream, index))
