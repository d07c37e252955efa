"""A real `run_worker` process with scripted pipelines (for multi-process tests).

usage: python -m tests.engine.worker_main URL CLIENT NAME BATCHES BATCH_SECONDS HEARTBEAT
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import ClassVar

from pulse_console.config import Settings
from pulse_console.engine.worker import configure_json_logging, run_worker
from pulse_console.pipelines.base import RunContext, RunResult
from pulse_console.pipelines.registry import PipelineRegistry
from storage.db import Database, make_engine
from tests.engine.scripted import BatchLoader


class SlowLoader:
    """BatchLoader whose batches take `seconds` each (not interruptible mid-batch)."""

    job_name: ClassVar[str] = "loader"

    def __init__(self, batches: int, seconds: float) -> None:
        self.inner = BatchLoader(batches=batches, size=5)
        self.seconds = seconds

    def run(self, ctx: RunContext) -> RunResult:
        original = ctx.report

        def report(progress: object) -> None:
            original(progress)  # type: ignore[arg-type]
            time.sleep(self.seconds)

        ctx.report = report
        return self.inner.run(ctx)


def main() -> int:
    url, client, name, batches, seconds, heartbeat = sys.argv[1:7]
    settings = Settings(
        client=client, database_url=url, data_dir=Path(tempfile.mkdtemp(prefix="pulse-w-"))
    )
    database = Database(engine=make_engine(url), embedded=False)
    registry = PipelineRegistry(chain={})
    registry.register("loader", lambda: SlowLoader(int(batches), float(seconds)))
    configure_json_logging("INFO")
    return run_worker(
        database,
        settings,
        registry,
        name=name,
        poll_seconds=1.0,
        heartbeat_seconds=float(heartbeat),
    )


if __name__ == "__main__":
    raise SystemExit(main())
