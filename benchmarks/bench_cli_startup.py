"""CLI start-up: median wall time of `pulse-console --version` and `jobs list` (target < 0.5 s).

    .venv/bin/python benchmarks/bench_cli_startup.py [--runs 5] [--database-url URL]

`jobs list` lists the jobs of a real client: a scratch schema on the test server (or the
database given) with client `acme`, its Jira integration and that integration's job (made by
one listing before timing, as an operator's first listing after `integration add` does).
This is the light path (psycopg only). For comparison it also times the full path, which a
listing takes when only the engine can answer: here an unknown client, refused in one line.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

from storage.testing import find_test_server, schema_url, scratch_schema, seed_tenant

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
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--database-url", default=None, help="default: the test server")
    args = parser.parse_args()
    server = args.database_url or find_test_server()
    cli = [sys.executable, "-m", "pulse_console.cli"]
    with scratch_schema(server) as engine:
        seed_tenant(engine)
        url = schema_url(server, engine)
        listing = [*cli, "jobs", "list", "--database-url", url, "--client", "acme"]
        first = subprocess.run(listing, capture_output=True, text=True, timeout=120)
        print(f"load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
        print(first.stdout.strip())
        cases = {
            "--version": [*cli, "--version"],
            "jobs list": listing,
            "jobs list (full path: unknown client)": [*listing[:-1], "bench-no-such-client"],
        }
        median_seconds(cases["--version"], 1)  # warm the file cache
        for name, argv in cases.items():
            took = median_seconds(argv, args.runs)
            verdict = "ok" if took < TARGET_SECONDS else f"over the {TARGET_SECONDS} s target"
            print(f"{name:<38} median {took:.3f} s over {args.runs} runs ({verdict})")
        print(f"load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
