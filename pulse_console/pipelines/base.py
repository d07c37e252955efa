"""The contract between the engine and every pipeline (Jira, GitHub, …: one per integration type).

The engine creates a `RunContext` per run and calls `Pipeline.run(ctx)` in a worker thread.
A pipeline extracts → validates → transforms → loads in batches, and commits each batch's
rows together with its checkpoint (`storage.checkpoints`) in one transaction, so a crash at
any instant resumes without loss or duplicates. It reports progress through `ctx.report`,
checks `ctx.cancel` between batches (the HTTP stack checks it before every request), and
ends by returning a `RunResult` or raising:

- `connectors.errors.RateLimited` — not a failure: the engine parks the job until `reset_at`
  and resumes it from the checkpoint;
- `connectors.errors.Cancelled` — the operator stopped it; the checkpoint is consistent;
- `storage.fencing.StaleRun` — (raised by `commit_batch`) another worker took the run over
  (this one stopped beating): the run stops at once, having written nothing since;
- anything else — the run failed; the message is shown to the operator.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Protocol

from connectors.http.cancel import CancelToken
from storage.db import Database
from storage.fencing import Fence


@dataclass(frozen=True)
class IntegrationRef:
    """The integration a run works on, as stored in `integrations` (never the token)."""

    id: int
    name: str
    type: str
    base_url: str
    config: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Progress:
    """A progress report; the console replaces the previous one with it."""

    phase: str
    done: int = 0
    total: int | None = None
    api_calls: int = 0
    message: str = ""
    rate_limit_until: datetime | None = None
    # The source's API budget as last reported (GitHub GraphQL points), for the console.
    budget_remaining: int | None = None
    budget_limit: int | None = None
    budget_reset_at: datetime | None = None


@dataclass
class RunResult:
    records: int = 0
    api_calls: int = 0
    retries: int = 0
    rate_limit_waits: int = 0
    checkpoint: dict[str, Any] = field(default_factory=dict)
    stats: dict[str, Any] = field(default_factory=dict)


@dataclass
class RunContext:
    client_id: int
    client: str
    integration: IntegrationRef
    database: Database
    run_id: int
    cancel: CancelToken
    report: Callable[[Progress], None]
    log: logging.Logger | logging.LoggerAdapter[logging.Logger]
    secret: Callable[[str], str | None]
    clock: Callable[[], datetime]
    checkpoint: dict[str, Any] = field(default_factory=dict)
    # The run's fence (storage/fencing.py): every batch commit checks it (None: a run outside
    # the engine, which no other process can take over).
    fence: Fence | None = None


class Pipeline(Protocol):
    """One job's work. Stateless between runs: all state is in the database."""

    job_name: ClassVar[str]

    def run(self, ctx: RunContext) -> RunResult: ...
