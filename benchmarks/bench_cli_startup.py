"""CLI start-up: median wall time of `pulse-console --version` and `jobs list` (target < 0.5 s).

    .venv/bin/python benchmarks/bench_cli_startup.py [--runs 7] [--database-url URL]

`jobs list` runs against the database given (default: the test server's `postgres` database
at 127.0.0.1:5432) on a client that need not exist (the command then refuses in one line,
after the same imports and connection a real listing makes).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

TARGET_SECONDS = 0.5


def median_seconds(argv: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(argv, capture_output=True, check=False, timeout=120)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument(
        "--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    args = parser.parse_args()
    cli = [sys.executable, "-m", "pulse_console.cli"]
    cases = {
        "--version": [*cli, "--version"],
        "jobs list": [
            *cli,
            "jobs",
            "list",
            "--database-url",
            args.database_url,
            "--client",
            "bench-startup",
        ],
    }
    median_seconds(cases["--version"], 1)  # warm the file cache
    for name, argv in cases.items():
        took = median_seconds(argv, args.runs)
        verdict = "ok" if took < TARGET_SECONDS else f"over the {TARGET_SECONDS} s target"
        print(f"{name:<10} median {took:.3f} s over {args.runs} runs ({verdict})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
