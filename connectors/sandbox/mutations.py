"""Changes made to the organisation between two syncs, recorded by version.

The base org never changes; a mutation appends an ``IssueChange`` (the issue's state from
that version on). Searches pin the version they started at, so a walk through pages sees
one consistent ordering while the org keeps changing underneath it.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, Field

from connectors.sandbox.issue_model import History


@dataclass(frozen=True, slots=True)
class IssueChange:
    version: int
    updated_ms: int
    project: int
    number: int
    deleted: bool
    status_id: str | None  # None: unchanged from the generated issue
    summary: str | None
    resolved_ms: int | None
    extra_histories: tuple[History, ...]


class MutationPlan(BaseModel):
    """How many of each change to make in one step (chosen deterministically)."""

    create: int = Field(default=0, ge=0)
    update: int = Field(default=0, ge=0)
    move: int = Field(default=0, ge=0)
    delete: int = Field(default=0, ge=0)
    force_push: int = Field(default=0, ge=0)


@dataclass(frozen=True, slots=True)
class MutationReport:
    """What a plan did, by key (issues) and ``owner/repo#number`` (pull requests)."""

    version: int
    created: tuple[str, ...]
    updated: tuple[str, ...]
    moved: tuple[tuple[str, str], ...]  # (old key, new key)
    deleted: tuple[str, ...]
    force_pushed: tuple[str, ...]
