"""The Aha! sync's checkpoint: the committed watermark and, mid-run, where the run stands.

Stored as JSON in ``checkpoints`` (scope ``aha``) in the same transaction as the rows each
page wrote, so a crash anywhere resumes at the first page whose rows are not committed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

SCOPE = "aha"


def _time(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def _text(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


@dataclass
class RunState:
    """An unfinished run: which (product, resource) step and page come next.

    ``step == len(plan)`` means every list is loaded and only the reconciliation is left.
    ``products`` is ``[[id, reference_prefix], …]``: the plan a resumed run follows.
    """

    mode: str
    since: datetime | None
    products: list[list[str]]
    step: int = 0
    page: int = 1
    newest: datetime | None = None  # newest updated_at seen so far in this run

    def to_json(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "since": _text(self.since),
            "products": self.products,
            "step": self.step,
            "page": self.page,
            "newest": _text(self.newest),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunState:
        return cls(
            mode=str(data["mode"]),
            since=_time(data.get("since")),
            products=[list(p) for p in data.get("products", [])],
            step=int(data.get("step", 0)),
            page=int(data.get("page", 1)),
            newest=_time(data.get("newest")),
        )


@dataclass
class SyncState:
    """``watermark``: newest ``updated_at`` (Aha!'s clock) of the last completed run."""

    watermark: datetime | None = None
    last_full_at: datetime | None = None
    products: list[str] = field(default_factory=list)
    run: RunState | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "watermark": _text(self.watermark),
            "last_full_at": _text(self.last_full_at),
            "products": self.products,
            "run": self.run.to_json() if self.run else None,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SyncState:
        run = data.get("run")
        return cls(
            watermark=_time(data.get("watermark")),
            last_full_at=_time(data.get("last_full_at")),
            products=[str(p) for p in data.get("products", [])],
            run=RunState.from_json(run) if isinstance(run, dict) else None,
        )
