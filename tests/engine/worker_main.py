"""A real pool worker process (`run_pool`) with scripted pipelines, for multi-process tests.

usage: python -m tests.engine.worker_main URL NAME BATCHES BATCH_SECONDS CONCURRENCY STALL DATA_DIR

The job type the tests use (`loader`) runs a `SlowLoader`.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import ClassVar

from pulse_console.config import Settings
from pulse_console.engine.logformat import configure_json_logging
from pulse_console.engine.pool import PoolOptions, run_pool
from pulse_console.pipelines.base import RunContext, RunResult
from pulse_console.pipelines.registry import PipelineRegistry
from storage.db import Database, make_engine
from tests.engine.scripted import BatchLoader

TYPES = ("loader",)


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
    url, name, batches, seconds, concurrency, stall, data_dir = sys.argv[1:8]
    settings = Settings(
        database_url=url,
        data_dir=Path(data_dir),
        pool={"tick_seconds": 0.3, "stall_seconds": float(stall)},
    )
    database = Database(engine=make_engine(url, pool_size=2), embedded=False)
    registry = PipelineRegistry(order=())
    for kind in TYPES:
        registry.register(kind, lambda: SlowLoader(int(batches), float(seconds)))
    configure_json_logging("INFO")
    options = PoolOptions.from_settings(settings, name, concurrency=int(concurrency))
    return run_pool(database, settings, registry, options)


if __name__ == "__main__":
    raise SystemExit(main())
