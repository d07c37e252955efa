"""How big a generated organisation is."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Size(enum.StrEnum):
    TINY = "tiny"
    SMALL = "small"
    MEDIUM = "medium"
    LARGE = "large"


@dataclass(frozen=True, slots=True)
class SizeSpec:
    clients: int
    projects_per_client: int
    users: int
    issues: int
    repositories_per_project: int
    pull_requests: int
    history_days: int


SPECS: dict[Size, SizeSpec] = {
    Size.TINY: SizeSpec(1, 2, 8, 60, 1, 24, 90),
    Size.SMALL: SizeSpec(2, 2, 25, 600, 1, 200, 180),
    Size.MEDIUM: SizeSpec(3, 3, 80, 10_000, 2, 2_000, 365),
    Size.LARGE: SizeSpec(6, 4, 300, 100_000, 2, 20_000, 540),
}
