"""Server-side times of the flow timeline's statements, as the owner and as a login (issue 14).

The flow metrics build their timeline (`flow_metrics._timeline`) in three statements, one
temp table each: `_flow_base` (the period's items), `_flow_steps` (their visits resolved to
steps) and `_flow_items` (lead and cycle marks). Each is run under `EXPLAIN (ANALYZE,
TIMING OFF, BUFFERS)` — PostgreSQL's own execution time (without per-node timing, which
inflates plans of many rows), not the client's wall clock, which a machine busy with other
work blurs — alternately as the schema's owner and as a viewer login of the
client (row-level security on), and the minimum of `--runs` is printed with the ratio and
the rows the statement's plan read from `work_item_status_spans`.

Usage: python benchmarks/bench_flow_statements.py --schema SCHEMA [--url …] [--days 90]
                                                  [--runs 15] [--plans]
SCHEMA is one `bench_metrics.py --keep` loaded (the large sandbox organisation, client 1).
`--plans` prints the last plan of each statement. `--against` names another checkout's
`pulse_console/metrics/flow_metrics.py`: both versions are then timed, alternately, in the
same runs (paired figures: before/after on a busy machine).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

from sqlalchemy import Connection, text

from connectors.sandbox.org import Org
from pulse_console.metrics import flow_metrics
from pulse_console.metrics.filters import MetricFilter
from storage.db import make_engine
from storage.testing import find_test_server, scratch_login

C = 1
WANT_PLANS = False
Sample = dict[str, tuple[float, int, int]]  # statement -> (ms, result rows, span rows read)


def _span_rows(plan: dict[str, Any]) -> int:
    own = plan.get("Actual Rows", 0) * plan.get("Actual Loops", 1)
    read = own + plan.get("Rows Removed by Filter", 0) * plan.get("Actual Loops", 1)
    mine = read if plan.get("Relation Name") == "work_item_status_spans" else 0
    return mine + sum(_span_rows(p) for p in plan.get("Plans", []))


def timeline_once(
    module: ModuleType, conn: Connection, f: MetricFilter, plans: dict[str, str]
) -> Sample:
    """Build `module`'s timeline once on `conn`, each statement under EXPLAIN ANALYZE first."""
    sample: Sample = {}
    real = module.temp_table

    def explained(c: Connection, name: str, select: str, params: dict[str, Any], keys: Any) -> None:
        explain = "EXPLAIN (ANALYZE, TIMING OFF, BUFFERS, FORMAT JSON)"
        doc = c.execute(text(f"{explain} {select}"), params)
        top = doc.scalar_one()[0]
        short = name.removeprefix("pg_temp.")
        sample[short] = (top["Execution Time"], top["Plan"]["Actual Rows"], _span_rows(top["Plan"]))
        if WANT_PLANS:
            text_plan = c.execute(text(f"EXPLAIN (ANALYZE, BUFFERS) {select}"), params)
            plans[short] = "\n".join(r[0] for r in text_plan)
        real(c, name, select, params, keys)

    module.temp_table = explained
    try:
        with conn.begin(), module._timeline(conn, f):
            pass
    finally:
        module.temp_table = real
    return sample


def runs(
    versions: dict[str, ModuleType], conns: dict[str, Connection], f: MetricFilter, n: int
) -> Iterator[tuple[str, Sample]]:
    """Every version as every connection, `n` times, alternately: a busy machine slows
    them alike."""
    plans: dict[str, str] = {}
    for _ in range(n):
        for version, module in versions.items():
            for who, conn in conns.items():
                yield f"{who} {version}", timeline_once(module, conn, f, plans)
    runs.last_plans = plans  # type: ignore[attr-defined]


def load_version(path: str) -> ModuleType:
    """Another checkout's `flow_metrics.py`, as a module of its own (the helpers it imports
    are this checkout's)."""
    spec = importlib.util.spec_from_file_location("flow_metrics_other", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # (its dataclasses look their module up)
    spec.loader.exec_module(module)
    return module


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url")
    parser.add_argument("--schema", required=True)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--plans", action="store_true")
    parser.add_argument("--against", metavar="FLOW_METRICS_PY", help="also time this version")
    args = parser.parse_args()
    global WANT_PLANS
    WANT_PLANS = args.plans
    versions = {"this": flow_metrics}
    if args.against:
        versions["other"] = load_version(args.against)
    for version, module in versions.items():
        print(f"{version}: {module.__file__}")
    engine = make_engine(args.url or find_test_server(), schema=args.schema, pool_size=2)
    org = Org(7, "large")
    now = datetime.fromtimestamp(org.now_ms / 1000, UTC)
    until = now.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    whole = MetricFilter(C, until - timedelta(days=args.days), until)
    scopes = {"org": whole, "project": whole.with_(project=org.projects[0].key)}
    try:
        with (
            scratch_login(engine, "viewer", clients=(C,)) as login,
            engine.connect() as owner,
            login.connect() as viewer,
        ):
            conns = {"owner": owner, "login": viewer}
            print(
                f"{'statement (scope)':24} {'version':>7} {'owner ms':>9} {'login ms':>9}"
                f" {'ratio':>6} {'rows':>7} {'span rows read':>15}"
            )
            for scope, f in scopes.items():
                best: dict[tuple[str, str], tuple[float, int, int]] = {}
                for who, sample in runs(versions, conns, f, args.runs):
                    for stmt, (ms, rows, spans) in sample.items():
                        old = best.get((who, stmt))
                        if old is None or ms < old[0]:
                            best[who, stmt] = (ms, rows, spans)
                for stmt in ("_flow_base", "_flow_steps", "_flow_items"):
                    for version in versions:
                        o, lg = best[f"owner {version}", stmt], best[f"login {version}", stmt]
                        same = "" if o[1] == lg[1] else f"  ROWS DIFFER: {o[1]} / {lg[1]}"
                        print(
                            f"{stmt + ' (' + scope + ')':24} {version:>7} {o[0]:9.1f}"
                            f" {lg[0]:9.1f} {lg[0] / o[0]:6.2f} {o[1]:7} {lg[2]:15}{same}"
                        )
                if args.plans:
                    for stmt, plan in runs.last_plans.items():  # type: ignore[attr-defined]
                        print(f"--- last plan {stmt} ({scope})\n{plan}")
    finally:
        engine.dispose()
    print(json.dumps({"runs": args.runs, "days": args.days, "schema": args.schema}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
