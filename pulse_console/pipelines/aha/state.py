"""The Aha! sync's checkpoints: the committed watermark and, mid-run, where each window stands.

The run (scope ``aha``) names its products; each product is a window (pipelines/windows.py)
with its own row (``aha:w<n>``, n its index in the run's products) saying which list and
page come next. A page's rows and its window's row commit in one transaction, so a crash
anywhere resumes every window at its first page whose rows are not committed.
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
class WindowState:
    """One product's window: the list (index in the product's plan) and page that come next,
    the newest ``updated_at`` it has seen, and whether every list of it is loaded."""

    step: int = 0
    page: int = 1
    newest: datetime | None = None
    done: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "page": self.page,
            "newest": _text(self.newest),
            "done": self.done,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> WindowState:
        return cls(
            step=int(data.get("step", 0)),
            page=int(data.get("page", 1)),
            newest=_time(data.get("newest")),
            done=bool(data.get("done", False)),
        )


@dataclass
class RunState:
    """An unfinished run.

    ``products`` is ``[[id, reference_prefix], …]``: the plan a resumed run follows.
    ``windowed``: where each product stands is in its window row (``aha:w<n>``). A run
    checkpointed before windows existed says instead which (product, resource) ``step`` of
    the whole plan and ``page`` come next (``step == len(plan)``: only the reconciliation
    is left); a resumed run turns that into window rows.
    """

    mode: str
    since: datetime | None
    products: list[list[str]]
    step: int = 0
    page: int = 1
    newest: datetime | None = None  # newest updated_at seen so far in this run
    windowed: bool = True

    def to_json(self) -> dict[str, Any]:
        return {
            "windowed": self.windowed,
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
            windowed=bool(data.get("windowed", False)),
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
