"""Benchmark the metric queries on the large sandbox organisation (issue 8's done-when).

Loads `Org(7, "large")` — 100,000 issues with their full changelogs, 20,000 PRs with
commits/reviews/comments, every deployment — into one client of a scratch schema through
`storage.load.upsert`, then times each query the Metrics screen and CLI run, for the whole
period, for one project, and for one Aha! release and one goal (`AhaOrg` over the same
organisation: its 144 releases, 120 goals and initiatives, and 100,000 features with their
release, goal and Jira links; requirements, epics and ideas are not loaded, as no metric
scope reads them). Target: everything the screen needs in under one second.

Usage: python benchmarks/bench_metrics.py [--url postgresql+psycopg://…] [--days 90] [--runs 3]
                                         [--keep | --reuse-schema SCHEMA]
`--keep` leaves the loaded schema in place (its name is printed); `--reuse-schema` times
against it again, migrated to head, without the few minutes of loading. `--as-login` also
times every query as a login that is a viewer of the client (not the owner: row-level
security applies) and prints both medians and their ratio (issue 14: at most 10 % slower);
`--login-only` does only that comparison (with `--reuse-schema`: no span rebuild either).
Without --url it uses PULSE_TEST_DATABASE_URL, else 127.0.0.1:5432, else an embedded server.
The sandbox is imported here only; metric code never imports connectors.
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import Connection, Engine, text

from connectors.sandbox import deploy_schedule as ds
from connectors.sandbox.aha.model import AhaOrg
from connectors.sandbox.catalog import ISSUE_TYPES, STATUSES
from connectors.sandbox.org import Org
from pulse_console.metrics.delivery_overview import delivery_overview
from pulse_console.metrics.dora import dora_report
from pulse_console.metrics.filters import MetricFilter
from pulse_console.metrics.flow_metrics import (
    completed_items,
    flow_overview,
    flow_summary,
    throughput_per_week,
    time_in_steps,
    wip_per_day,
)
from pulse_console.metrics.pr_cycle import pr_cycle_summary
from pulse_console.metrics.settings import MetricsSettings
from pulse_console.services import flow_mappings as flow
from pulse_console.services import metrics as metrics_service
from pulse_console.services.metrics import MetricsQuery
from storage import migrate, status_spans
from storage.db import Database, make_engine
from storage.flow_defaults import propose_default_mappings
from storage.load import iter_batches, upsert
from storage.models import (
    Deployment,
    Goal,
    PrComment,
    PrCommit,
    PrReview,
    PullRequest,
    Release,
    Repository,
    Status,
    WorkItem,
    WorkItemGoal,
    WorkItemLink,
    WorkItemRelease,
    WorkItemTransition,
)
from storage.testing import find_test_server, scratch_login, seed_tenant

C, JIRA, GITHUB, AHA = 1, 1, 2, 3
BATCH = 5000


def at(ms: int | None) -> datetime | None:
    return None if ms is None else datetime.fromtimestamp(ms / 1000, UTC)


def load(engine: Engine, org: Org) -> dict[str, float]:
    took: dict[str, float] = {}
    status_name = {s.id: s.name for s in STATUSES}
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO integrations (id, client_id, name, type, base_url)"
                " VALUES (2, 1, 'github', 'github', 'https://api.github.com')"
            )
        )
        upsert(
            conn,
            Status,
            [
                {
                    "client_id": C,
                    "integration_id": JIRA,
                    "external_id": s.id,
                    "name": s.name,
                    "category": s.category.key,
                }
                for s in STATUSES
            ],
        )
        propose_default_mappings(conn, C)
    flow.map_issue_type(
        Database(engine, embedded=False), "acme", "Incident", "incident", actor="bench"
    )

    t = time.perf_counter()
    item_ids: dict[str, int] = {}

    def issues() -> Iterator[Any]:
        for index in range(org.issue_count):
            issue = org.issue(index)
            if issue is not None:
                yield issue

    for chunk in iter_batches(issues(), BATCH):
        project = {i.index: org.projects[i.project] for i in chunk}
        with engine.begin() as conn:
            result = upsert(
                conn,
                WorkItem,
                [
                    {
                        "client_id": C,
                        "integration_id": JIRA,
                        "source": "jira",
                        "external_id": i.id,
                        "key": i.key,
                        "project_key": project[i.index].key,
                        "type": ISSUE_TYPES[i.type].name,
                        "status": status_name.get(i.status_id, i.status_id),
                        "summary": i.summary,
                        "created_at": at(i.created_ms),
                        "updated_at": at(i.updated_ms),
                        "resolved_at": at(i.resolved_ms),
                        "custom_fields": {
                            "Team": project[i.index].team.name,
                            "Story Points": i.story_points,
                        },
                    }
                    for i in chunk
                ],
                return_ids=True,
            )
            assert result.ids is not None
            ids = {key[-1]: v for key, v in result.ids.items()}
            item_ids.update(ids)
            rows = [
                {
                    "client_id": C,
                    "integration_id": JIRA,
                    "work_item_id": ids[i.id],
                    "external_id": str(h.id),
                    "item_index": n,
                    "field": item.field,
                    "field_id": item.field_id,
                    "from_value": item.from_string,
                    "to_value": item.to_string,
                    "from_id": item.from_,
                    "to_id": item.to,
                    "changed_at": at(h.created_ms),
                }
                for i in chunk
                for h in i.histories
                for n, item in enumerate(h.items)
            ]
            for batch in iter_batches(rows, 20_000):
                upsert(conn, WorkItemTransition, batch)
    took["issues + transitions"] = time.perf_counter() - t

    t = time.perf_counter()
    with engine.begin() as conn:
        repos = upsert(
            conn,
            Repository,
            [
                {
                    "client_id": C,
                    "integration_id": GITHUB,
                    "external_id": str(r.database_id),
                    "full_name": f"{r.owner}/{r.name}",
                    "default_branch": r.default_branch,
                }
                for r in org.repositories
            ],
            return_ids=True,
        )
        assert repos.ids is not None
        repo_id = {int(k[-1]): v for k, v in repos.ids.items()}
        repo_of = {r.index: repo_id[r.database_id] for r in org.repositories}
        rows = []
        for r in org.repositories:
            for env in ds.Environment:
                for slot in range(org.deployment_slots(r.index, env)):
                    d = org.deployment(r.index, env, slot)
                    rows.append(
                        {
                            "client_id": C,
                            "integration_id": GITHUB,
                            "repository_id": repo_of[r.index],
                            "external_id": str(d.database_id),
                            "environment": d.environment,
                            "status": d.state,
                            "sha": d.sha,
                            "ref": d.ref,
                            "created_at": at(d.created_ms),
                            "finished_at": at(d.statuses[-1].created_ms if d.statuses else None),
                        }
                    )
        for batch in iter_batches(rows, 20_000):
            upsert(conn, Deployment, batch)
    took["repositories + deployments"] = time.perf_counter() - t
    deployments = len(rows)

    t = time.perf_counter()
    for chunk in iter_batches(range(org.pull_request_count), 2000):
        prs = [org.pull_request(i) for i in chunk]
        with engine.begin() as conn:
            result = upsert(
                conn,
                PullRequest,
                [
                    {
                        "client_id": C,
                        "integration_id": GITHUB,
                        "repository_id": repo_of[p.repository],
                        "external_id": str(p.database_id),
                        "number": p.number,
                        "title": p.title,
                        "state": p.state,
                        "author": p.author_login,
                        "base_branch": p.base_ref,
                        "head_branch": p.head_ref,
                        "created_at": at(p.created_ms),
                        "updated_at": at(p.updated_ms),
                        "merged_at": at(p.merged_ms),
                        "closed_at": at(p.closed_ms),
                        "merge_commit_sha": p.merge_commit_oid,
                    }
                    for p in prs
                ],
                return_ids=True,
            )
            assert result.ids is not None
            pr_id = {k[-1]: v for k, v in result.ids.items()}

            def rows_of(
                kind: str, prs: list[Any] = prs, pr_id: dict[str, int] = pr_id
            ) -> list[dict[str, Any]]:
                out: list[dict[str, Any]] = []
                for p in prs:
                    own = pr_id[str(p.database_id)]
                    base = {"client_id": C, "integration_id": GITHUB, "pull_request_id": own}
                    if kind == "commits":
                        out += [
                            {
                                **base,
                                "sha": c.oid,
                                "author": c.author_login,
                                "authored_at": at(c.authored_ms),
                                "committed_at": at(c.committed_ms),
                            }
                            for c in p.commits
                        ]
                    elif kind == "reviews":
                        out += [
                            {
                                **base,
                                "external_id": str(r.database_id),
                                "author": r.author_login,
                                "state": r.state,
                                "submitted_at": at(r.submitted_ms),
                            }
                            for r in p.reviews
                        ]
                    else:
                        out += [
                            {
                                **base,
                                "external_id": str(c.database_id),
                                "author": c.author_login,
                                "kind": c.kind,
                                "created_at": at(c.created_ms),
                            }
                            for c in p.comments
                        ]
                return out

            upsert(conn, PrCommit, rows_of("commits"))
            upsert(conn, PrReview, rows_of("reviews"))
            upsert(conn, PrComment, rows_of("comments"))
            links = [
                {
                    "client_id": C,
                    "work_item_id": item_ids[org.issue(p.issue_index).id],  # type: ignore[union-attr]
                    "kind": "pull_request",
                    "url": f"https://github.com/{p.repository}/pull/{p.number}",
                    "repository": next(
                        f"{r.owner}/{r.name}" for r in org.repositories if r.index == p.repository
                    ),
                    "pull_request_number": p.number,
                    "evidence": "dev_status",
                }
                for p in prs
                if p.issue_index is not None and org.issue(p.issue_index) is not None
            ]
            upsert(conn, WorkItemLink, links)
    took["pull requests + commits/reviews/comments/links"] = time.perf_counter() - t
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))  # what autovacuum does after a sync
    with engine.connect() as conn:
        counts = {
            name: conn.execute(text(f"SELECT count(*) FROM {name}")).scalar_one()
            for name in (
                "work_items",
                "work_item_transitions",
                "pull_requests",
                "pr_commits",
                "pr_reviews",
                "pr_comments",
                "deployments",
                "work_item_links",
            )
        }
    print("rows:", counts, f"(deployments generated: {deployments})")
    return took


def load_plans(engine: Engine, aha: AhaOrg) -> float:
    """The Aha! releases, goals and features of `aha` with their links, as the Aha! sync
    stores them (`pipelines/aha/load.py`): a feature's Jira link is a `work_item_links` row
    of kind `jira` with the issue key in `url`."""
    t = time.perf_counter()
    base = {"client_id": C, "integration_id": AHA, "source": "aha"}
    prefix = {p.index: p.prefix for p in aha.products}
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO integrations (id, client_id, name, type, base_url)"
                " VALUES (3, 1, 'aha', 'aha', 'https://sandbox.aha.io')"
            )
        )
        releases = upsert(
            conn,
            Release,
            [
                {**base, "external_id": r.id, "key": r.ref, "name": r.name,
                 "project_key": prefix[r.product], "status": r.status, "released": r.released,
                 "created_at": at(r.created_ms), "updated_at": at(r.updated_ms)}
                for r in aha.releases.values()
            ],
            return_ids=True,
        )  # fmt: skip
        goals = upsert(
            conn,
            Goal,
            [
                {**base, "external_id": g.id, "key": g.ref, "name": g.name, "kind": g.kind,
                 "project_key": prefix[g.product], "status": g.status,
                 "progress": g.progress, "created_at": at(g.created_ms),
                 "updated_at": at(g.updated_ms)}
                for g in aha.goals.values()
            ],
            return_ids=True,
        )  # fmt: skip
    assert releases.ids is not None and goals.ids is not None
    release_id, goal_id = _by_ext(releases.ids), _by_ext(goals.ids)
    release_of = {r.ref: release_id[r.id] for r in aha.releases.values()}
    goal_of = {g.ref: goal_id[g.id] for g in aha.goals.values()}
    features = [r for r in aha.records.values() if r.kind == "feature"]
    for chunk in iter_batches(features, BATCH):
        with engine.begin() as conn:
            result = upsert(
                conn,
                WorkItem,
                [
                    {**base, "external_id": f.id, "key": f.ref, "type": "Feature",
                     "project_key": prefix[f.product], "status": f.status.status,
                     "summary": f.name, "created_at": at(f.created_ms),
                     "updated_at": at(f.updated_ms)}
                    for f in chunk
                ],
                return_ids=True,
            )  # fmt: skip
            assert result.ids is not None
            ids = _by_ext(result.ids)
            upsert(conn, WorkItemRelease, [
                {"client_id": C, "work_item_id": ids[f.id], "release_id": release_of[f.release]}
                for f in chunk if f.release
            ])  # fmt: skip
            upsert(conn, WorkItemGoal, [
                {"client_id": C, "work_item_id": ids[f.id], "goal_id": goal_of[g]}
                for f in chunk for g in (*f.goals, *([f.initiative] if f.initiative else []))
            ])  # fmt: skip
            upsert(conn, WorkItemLink, [
                {"client_id": C, "work_item_id": ids[f.id], "kind": "jira", "url": f.jira_key,
                 "evidence": "integration_field"}
                for f in chunk if f.jira_key
            ])  # fmt: skip
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    return time.perf_counter() - t


def _by_ext(ids: dict[Any, int]) -> dict[str, int]:
    """`upsert`'s ids by natural key → by external id (the key's last part)."""
    return {str(k[-1]): v for k, v in ids.items()}


def timed(runs: int, fn: Callable[[], Any]) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def screen_queries(conn: Connection, f: MetricFilter, s: MetricsSettings) -> dict[str, Any]:
    """What the Metrics screen runs: DORA with the PR breakdown (one delivery pass), and the
    flow overview (one timeline pass)."""
    return {
        "delivery overview (DORA + PR cycle)": lambda: delivery_overview(conn, f, s),
        "flow overview (one timeline pass)": lambda: flow_overview(conn, f),
    }


def single_queries(conn: Connection, f: MetricFilter, s: MetricsSettings) -> dict[str, Any]:
    """Each query on its own (as the CLI and drill-downs run them)."""
    return {
        "dora (4 metrics + weekly series)": lambda: dora_report(conn, f, s),
        "PR cycle breakdown": lambda: pr_cycle_summary(conn, f, s),
        "flow summary (lead/cycle/WIP/efficiency)": lambda: flow_summary(conn, f),
        "time in steps": lambda: time_in_steps(conn, f),
        "WIP per day": lambda: wip_per_day(conn, f),
        "throughput per week": lambda: throughput_per_week(conn, f),
        "drill-down (50 slowest items)": lambda: completed_items(conn, f, limit=50),
    }


def compare_as_login(
    engine: Engine, whole: MetricFilter, project: str, s: MetricsSettings, runs: int
) -> None:
    """Every query as the owner and as a viewer login of the client, their runs interleaved
    (the one going first taking turns) so that a busy machine slows both alike."""
    with scratch_login(engine, "viewer", clients=(C,)) as login:
        print(f"\n{'query (whole org / project)':52} {'owner':>9} {'login':>9} {'ratio':>6}")
        with engine.connect() as owner_conn, login.connect() as login_conn:
            for f, scope in ((whole, "org"), (whole.with_(project=project), "project")):
                mine = {**screen_queries(owner_conn, f, s), **single_queries(owner_conn, f, s)}
                theirs = {**screen_queries(login_conn, f, s), **single_queries(login_conn, f, s)}
                for name, fn in mine.items():
                    theirs[name]()  # warm the login's plan cache too
                    fn()  # and the owner's: each pair's first run then finds warm caches
                    samples: list[tuple[float, float]] = []
                    for n in range(runs):  # who goes first takes turns: neither is favoured
                        if n % 2:
                            theirs_s = timed(1, theirs[name])
                            samples.append((timed(1, fn), theirs_s))
                        else:
                            samples.append((timed(1, fn), timed(1, theirs[name])))
                    a = statistics.median(x for x, _ in samples)
                    b = statistics.median(y for _, y in samples)
                    label = f"{name} ({scope})"[:52]
                    print(f"{label:52} {a * 1000:7.0f}ms {b * 1000:7.0f}ms {b / a:6.2f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url")
    parser.add_argument("--days", type=int, default=90, help="period length (ends at org now)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the scratch schema")
    parser.add_argument(
        "--reuse-schema",
        metavar="SCHEMA",
        help="time against a schema an earlier --keep run loaded (migrated to head, not reloaded)",
    )
    parser.add_argument(
        "--as-login", action="store_true", help="compare with a non-owner login (RLS on)"
    )
    parser.add_argument("--login-only", action="store_true", help="only the owner/login comparison")
    args = parser.parse_args()
    args.as_login = args.as_login or args.login_only
    url = args.url or find_test_server()
    schema = args.reuse_schema or f"bench_metrics_{uuid.uuid4().hex[:8]}"
    keep = args.keep or args.reuse_schema is not None
    admin = make_engine(url)
    if args.reuse_schema is None:
        with admin.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
    engine = make_engine(url, schema=schema)
    try:
        org = Org(7, "large")
        if args.reuse_schema is None:
            migrate.upgrade(engine)
            seed_tenant(engine)
            for label, seconds in load(engine, org).items():
                print(f"load {label}: {seconds:.1f} s")
        else:
            migrate.upgrade(engine)
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("ANALYZE"))  # statistics for indexes a migration added
        now = at(org.now_ms)
        assert now is not None
        until = now.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
        whole = MetricFilter(C, until - timedelta(days=args.days), until)
        if args.login_only and args.reuse_schema is not None:
            compare_as_login(engine, whole, org.projects[0].key, MetricsSettings(), args.runs)
            return 0
        # What `pulse-console metrics refresh` does (the direct load above bypasses the
        # sync's per-page refresh); on a reused schema, migration 0006 backfilled already.
        t = time.perf_counter()
        with engine.begin() as conn:
            spans = status_spans.rebuild(conn, C)
        print(f"refresh: status spans full rebuild: {spans} spans, {time.perf_counter() - t:.1f} s")
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE work_item_status_spans"))  # as autovacuum would
        print(f"schema: {schema}{' (kept)' if keep else ''}")
        with engine.connect() as conn:
            planned = conn.execute(text("SELECT count(*) FROM releases")).scalar_one()
        aha = AhaOrg(org)
        if not planned:  # also for a schema kept before the Aha! source existed
            print(f"load Aha! releases, goals, features and links: {load_plans(engine, aha):.1f} s")
        project = org.projects[0].key
        # Product 0's release running at the end of the period, and its first goal.
        release = max(
            (r for r in aha.releases.values() if r.product == 0 and r.start_ms < org.now_ms),
            key=lambda r: r.start_ms,
        ).ref
        goal = f"{aha.products[0].prefix}-G-1"
        s = MetricsSettings()
        scopes = {
            "whole org": whole,
            "project": whole.with_(project=project),
            "release": whole.with_(release=release),
            "goal": whole.with_(goal=goal),
        }
        print(
            f"period: {whole.since:%Y-%m-%d} .. {whole.until:%Y-%m-%d}, project {project},"
            f" release {release}, goal {goal}"
        )
        header = "".join(f"{name:>11}" for name in scopes)
        with engine.connect() as conn:
            print(f"{'query':45}{header}")
            totals = dict.fromkeys(scopes, 0.0)
            each = {n: screen_queries(conn, f, s) for n, f in scopes.items()}
            for query in each["whole org"]:
                row = {n: timed(args.runs, each[n][query]) for n in scopes}
                for n, took in row.items():
                    totals[n] += took
                print(f"{query:45}{_ms(row.values())}")
            print(f"{'= the screen statements one after another':45}{_ms(totals.values())}")
            # What the screen's worker really calls: delivery and flow on two connections.
            database = Database(engine=engine, embedded=False)
            queries = {
                "whole org": MetricsQuery(args.days),
                "project": MetricsQuery(args.days, project),
                "release": MetricsQuery(args.days, release=release),
                "goal": MetricsQuery(args.days, goal=goal),
            }
            loads = [
                timed(args.runs, partial(metrics_service.load, database, "acme", q, now=until))
                for q in queries.values()
            ]
            print(f"{'= Metrics screen load (services.metrics)':45}{_ms(loads)}")
            singles = {n: single_queries(conn, f, s) for n, f in scopes.items()}
            for query in singles["whole org"]:
                row = {n: timed(args.runs, singles[n][query]) for n in scopes}
                print(f"  {query:43}{_ms(row.values())}")
            for name, f in scopes.items():
                r = dora_report(conn, f, s)
                dora = [(m.name, m.value, m.level.level if m.level else None) for m in r.metrics]
                print(f"dora ({name}):", r.deployments, "deployments;", dora)
                print(f"flow ({name}):", flow_summary(conn, f))
        if args.as_login:
            compare_as_login(engine, whole, project, s, args.runs)
    finally:
        engine.dispose()
        if not keep:
            with admin.begin() as conn:
                conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()
    return 0


def _ms(values: Any) -> str:
    return "".join(f"{v * 1000:9.0f}ms" for v in values)


if __name__ == "__main__":
    raise SystemExit(main())
