"""`pulse-console metrics dora|flow|prs|refresh`: the metrics of one client and period.

`prs` lists every PR merged in the period with its coding, pickup, review and deploy times,
its lead time and the deployment that shipped it: the rows of the Metrics screen's PR
drill-down (`services.metrics.merged_prs`, over the same `pr_cycles`).

`refresh` rebuilds the client's precomputed status timelines (`storage.status_spans`):
the Jira sync keeps them current, so this is for data loaded some other way.

`--format table` (default) for people, `json` and `csv` for scripts. The period is
`[--since, --until)` in UTC (dates or ISO times; default: the whole days before today that
the Metrics screen shows first, `DEFAULT_PERIOD_DAYS`). `--release`/`--goal` scope all three
the same way (metrics/plans.py). Exit codes: 0 done, 1 failed, 2 refused (unknown client,
release or goal, empty period, bad benchmark year). The metrics modules are imported by the
command that runs, so `--help` stays cheap. Every period is cut to the client's data
(metrics/period.py): the answer's `since`/`until` say what was used.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from pulse_console.commands import database as opener
from pulse_console.commands.output import error
from pulse_console.metrics.filters import DEFAULT_PERIOD_DAYS, MetricFilter
from pulse_console.services.roles import Action

if TYPE_CHECKING:
    from pulse_console.config import Settings
    from pulse_console.metrics.settings import MetricsSettings
    from storage.db import Database

EXIT_OK, EXIT_FAILED, EXIT_REFUSED = 0, 1, 2


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add `metrics dora` and `metrics flow` to the top-level subparsers."""
    metrics = sub.add_parser("metrics", parents=[common], help="DORA and flow metrics")
    kinds = metrics.add_subparsers(title="metrics", metavar="KIND")
    kinds.required = True
    dora = kinds.add_parser("dora", parents=[common], help="the four DORA metrics and levels")
    flow = kinds.add_parser("flow", parents=[common], help="lead/cycle time, WIP, throughput")
    prs = kinds.add_parser(
        "prs",
        parents=[common],
        help="one row per PR merged in the period: its cycle-time parts and deployment",
    )
    for parser in (dora, flow, prs):
        parser.add_argument("--project", help="project key")
        parser.add_argument("--team", help="value of the work items' Team field")
        parser.add_argument("--since", type=_when, help="start, inclusive (YYYY-MM-DD, UTC)")
        parser.add_argument("--until", type=_when, help="end, exclusive (default: today)")
        parser.add_argument("--format", choices=("table", "json", "csv"), default="table")
        parser.add_argument(
            "--release",
            help="release reference number: its items, the issues they link to, their PRs"
            " and the deployments that shipped those",
        )
        parser.add_argument("--goal", help="goal or initiative reference number, likewise")
    for parser in (dora, prs):
        parser.add_argument("--repository", help="owner/name")
    flow.add_argument("--issue-type", help="issue type, e.g. Story")
    dora.set_defaults(handler=run_dora)
    flow.set_defaults(handler=run_flow)
    prs.set_defaults(handler=run_prs)
    refresh = kinds.add_parser(
        "refresh", parents=[common], help="rebuild the status timelines the flow metrics read"
    )
    refresh.set_defaults(handler=run_refresh)


def _when(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
        parsed = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date or ISO time: {value!r}") from exc
    except OverflowError:
        raise argparse.ArgumentTypeError(f"out of the supported range: {value!r}") from None
    return parsed


def _filter(args: argparse.Namespace, client_id: int) -> MetricFilter:
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    until = args.until or today
    try:
        since = args.since or until - timedelta(days=DEFAULT_PERIOD_DAYS)
    except OverflowError:
        raise ValueError(
            f"no period of {DEFAULT_PERIOD_DAYS} days ends at {until:%Y-%m-%d}: give --since"
        ) from None
    return MetricFilter(
        client_id,
        since,
        until,
        project=args.project,
        team=args.team,
        issue_type=getattr(args, "issue_type", None),
        repository=getattr(args, "repository", None),
        release=args.release,
        goal=args.goal,
    )


def _run(args: argparse.Namespace, settings: Settings, render: Any) -> int:
    database = opener.open_for(settings, Action.READ)
    try:
        return _run_on(database, args, settings, render)
    finally:
        database.dispose()


def _run_on(database: Database, args: argparse.Namespace, settings: Settings, render: Any) -> int:
    """`render(conn, filter, format)` for the client's period; one line when refused."""
    from pulse_console.metrics.performance_levels import UnknownBenchmarkYear
    from pulse_console.metrics.period import within_data
    from pulse_console.metrics.plans import unknown_plan
    from storage.tenancy import find_client

    with database.engine.connect() as conn:
        with database.session() as session:
            client_id = find_client(session, settings.client)
        if client_id is None:
            return _fail(f"no client {settings.client!r} in {database.display_url}")
        missing = unknown_plan(conn, client_id, args.release, args.goal)
        if missing:
            return _fail(f"no {missing} for client {settings.client!r}")
        try:
            f = within_data(conn, _filter(args, client_id))
        except ValueError as exc:
            return _fail(str(exc))
        try:
            render(conn, f, args.format)
        except UnknownBenchmarkYear as exc:
            return _fail(exc.msg)
    return EXIT_OK


def run_refresh(args: argparse.Namespace, settings: Settings) -> int:
    from storage import status_spans
    from storage.tenancy import find_client

    database = opener.open_for(settings, Action.RUN_ENGINE)  # it rewrites derived tables
    try:
        with database.session() as session:
            client_id = find_client(session, settings.client)
        if client_id is None:
            return _fail(f"no client {settings.client!r} in {database.display_url}")
        started = time.perf_counter()
        with database.engine.begin() as conn:
            spans = status_spans.rebuild(conn, client_id)
        took = time.perf_counter() - started
        print(f"rebuilt {spans} status spans of client {settings.client!r} in {took:.1f} s")
        return EXIT_OK
    finally:
        database.dispose()


def run_dora(args: argparse.Namespace, settings: Settings) -> int:
    def render(conn: Any, f: MetricFilter, fmt: str) -> None:
        _render_dora(conn, f, fmt, _defaults(settings))

    return _run(args, settings, render)


def run_flow(args: argparse.Namespace, settings: Settings) -> int:
    return _run(args, settings, _render_flow)


def run_prs(args: argparse.Namespace, settings: Settings) -> int:
    from pulse_console.services.metrics import merged_prs

    database = opener.open_for(settings, Action.READ)
    try:

        def render(conn: Any, f: MetricFilter, fmt: str) -> None:
            _render_prs(merged_prs(database, settings.client, f, _defaults(settings)), f, fmt)

        return _run_on(database, args, settings, render)
    finally:
        database.dispose()


def _defaults(settings: Settings) -> MetricsSettings:
    """config.toml's `[metrics]`: what the database's `metrics.*` settings fall back to."""
    from pulse_console.metrics.settings import MetricsSettings

    return MetricsSettings(benchmark_year=settings.metrics.benchmark_year)


def _fail(message: str, code: int = EXIT_REFUSED) -> int:
    error(message)
    return code


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def _period(f: MetricFilter) -> dict[str, str]:
    return {"since": f.since.isoformat(), "until": f.until.isoformat()}


PR_COLUMNS = [
    "repository",
    "number",
    "merged_at",
    "coding_hours",
    "pickup_hours",
    "review_hours",
    "deploy_hours",
    "lead_time_hours",
    "deployment_id",
    "deployment_finished_at",
]


def _render_prs(rows: list[Any], f: MetricFilter, fmt: str) -> None:
    table = [
        [
            r.repository,
            r.pr.number,
            r.pr.merged_at,
            r.pr.coding_hours,
            r.pr.pickup_hours,
            r.pr.review_hours,
            r.pr.deploy_hours,
            r.pr.cycle_hours,
            r.pr.deployment_id,
            r.pr.deployed_at,
        ]
        for r in rows
    ]
    if fmt == "json":
        prs = [dict(zip(PR_COLUMNS, row, strict=True)) for row in table]
        print(json.dumps({**_period(f), "prs": prs}, default=_jsonable, indent=2))
        return
    _emit(fmt, PR_COLUMNS, [[_cell(v) for v in row] for row in table])


def _cell(value: Any) -> str:
    """A table/CSV cell: hours to two decimals, times in ISO, nothing for a missing value."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.2f}"
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _render_dora(conn: Any, f: MetricFilter, fmt: str, defaults: MetricsSettings) -> None:
    from pulse_console.metrics.dora import dora_report
    from pulse_console.metrics.settings import MetricsSettings

    report = dora_report(conn, f, MetricsSettings.load(conn, f.client_id, defaults))
    if fmt == "json":
        print(json.dumps({**_period(f), **asdict(report)}, default=_jsonable, indent=2))
        return
    rows = [
        [
            m.name,
            _cell(m.value),  # fixed point: never 3.521e+05
            m.unit,
            m.sample,
            m.level.level if m.level else "",
            m.level.label if m.level else "",
        ]
        for m in report.metrics
    ]
    header = ["metric", "value", "unit", "sample", "level", f"benchmark {report.benchmark_year}"]
    _emit(fmt, header, rows)


def _render_flow(conn: Any, f: MetricFilter, fmt: str) -> None:
    from pulse_console.metrics.flow_metrics import flow_summary, throughput_per_week, time_in_steps

    summary = flow_summary(conn, f)
    steps = time_in_steps(conn, f)
    if fmt == "json":
        weeks = throughput_per_week(conn, f)
        data = {
            **_period(f),
            "summary": asdict(summary),
            "time_in_steps": [asdict(s) for s in steps],
            "throughput_per_week": [asdict(w) for w in weeks],
        }
        print(json.dumps(data, default=_jsonable, indent=2))
        return
    rows: list[list[Any]] = [[name, _cell(value)] for name, value in asdict(summary).items()]
    for s in steps:  # per item (median, p85), then the sum over items, named as a total
        rows += [
            [f"time_in_step_median_hours:{s.step}", _cell(s.median_hours)],
            [f"time_in_step_p85_hours:{s.step}", _cell(s.p85_hours)],
            [f"time_in_step_total_hours:{s.step}", _cell(s.hours)],
        ]
    _emit(fmt, ["metric", "value"], rows)


def _emit(fmt: str, header: list[str], rows: list[list[Any]]) -> None:
    if fmt == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
        return
    table = [header, *[[str(c) for c in r] for r in rows]]
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    for n, r in enumerate(table):
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))
