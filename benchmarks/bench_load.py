"""Benchmark storage/load.py against a plain COPY of the same rows (issue 2's done-when).

Usage: python benchmarks/bench_load.py [--rows 100000] [--url postgresql+psycopg://…]
Without --url it uses PULSE_TEST_DATABASE_URL, else 127.0.0.1:5432 (user postgres), else
the embedded server in a temporary data dir. Works in a scratch schema it drops afterwards.
"""

from __future__ import annotations

import argparse
import json
import random
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from psycopg.types.json import Jsonb
from sqlalchemy import text

from storage import migrate
from storage.db import make_engine
from storage.load import iter_batches, upsert
from storage.models import WorkItem
from storage.testing import find_test_server, seed_tenant

VERSION = ("updated_at", "key")
"""What the pipelines pass as `upsert(version=…)` for work items (the source's version)."""

COLUMNS = [
    "client_id",
    "integration_id",
    "source",
    "external_id",
    "key",
    "project_key",
    "type",
    "status",
    "priority",
    "summary",
    "assignee",
    "created_at",
    "updated_at",
    "custom_fields",
    "raw",
]


def make_rows(count: int, seed: int = 1) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    base = datetime(2024, 1, 1, tzinfo=UTC)
    rows = []
    for i in range(count):
        created = base + timedelta(minutes=rng.randrange(500_000))
        rows.append(
            {
                "client_id": 1,
                "integration_id": 1,
                "source": "jira",
                "external_id": str(10000 + i),
                "key": f"ALP-{i + 1}",
                "project_key": "ALP",
                "type": rng.choice(["Story", "Bug", "Task"]),
                "status": rng.choice(["To Do", "In Progress", "Done"]),
                "priority": rng.choice(["High", "Medium", "Low"]),
                "summary": "".join(rng.choice("abcdefghij klmnop") for _ in range(200)),
                "assignee": f"user{rng.randrange(50)}",
                "created_at": created,
                "updated_at": created + timedelta(hours=rng.randrange(1000)),
                "custom_fields": {"Story Points": rng.randrange(1, 13), "Team": "Core"},
                "raw": {"id": str(10000 + i), "fields": {"labels": ["a", "b"]}},
            }
        )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--url")
    args = parser.parse_args()
    url = args.url or find_test_server()
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = make_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    engine = make_engine(url, schema=schema)
    try:
        migrate.upgrade(engine)
        seed_tenant(engine)
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE copy_target (LIKE work_items INCLUDING DEFAULTS)"))
        rows = make_rows(args.rows)
        results: dict[str, Any] = {"rows": args.rows, "batch": args.batch}

        # 1. Plain COPY into an empty table: the ceiling.
        start = time.perf_counter()
        with engine.begin() as conn:
            raw = conn.connection.driver_connection
            assert raw is not None
            with (
                raw.cursor() as cur,
                cur.copy(f"COPY copy_target ({', '.join(COLUMNS)}) FROM STDIN") as copy,
            ):
                for row in rows:
                    copy.write_row(
                        [
                            Jsonb(row[c]) if c in ("custom_fields", "raw") else row[c]
                            for c in COLUMNS
                        ]
                    )
        results["copy_s"] = time.perf_counter() - start

        def load(label: str, data: list[dict[str, Any]], version: tuple[str, ...] = ()) -> None:
            total = None
            start = time.perf_counter()
            with engine.begin() as conn:
                for batch in iter_batches(data, args.batch):
                    result = upsert(conn, WorkItem, batch, version=version)
                    total = result if total is None else total + result
            elapsed = time.perf_counter() - start
            assert total is not None
            results[label] = {
                "seconds": round(elapsed, 3),
                "rows_per_s": round(len(data) / elapsed),
                "inserted": total.inserted,
                "updated": total.updated,
                "unchanged": total.unchanged,
            }

        load("upsert_new", rows, VERSION)
        versions_sql = text("SELECT md5(string_agg(xmin::text, ',' ORDER BY id)) FROM work_items")
        with engine.connect() as conn:
            before = conn.execute(versions_sql).scalar_one()
        load("upsert_unchanged", rows, VERSION)
        load("upsert_unchanged_every_column_compared", rows)
        with engine.connect() as conn:
            results["unchanged_reload_rewrote_rows"] = (
                conn.execute(versions_sql).scalar_one() != before
            )
        # A change at the source bumps its version (Jira `updated`).
        changed = [
            dict(r, status="Reopened", updated_at=r["updated_at"] + timedelta(minutes=1))
            if i % 10 == 0
            else r
            for i, r in enumerate(rows)
        ]
        load("upsert_10pct_changed", changed, VERSION)

        copy_rate = args.rows / results["copy_s"]
        results["copy_rows_per_s"] = round(copy_rate)
        results["copy_s"] = round(results["copy_s"], 3)
        new_rate = results["upsert_new"]["rows_per_s"]
        same_rate = results["upsert_unchanged"]["rows_per_s"]
        results["new_vs_copy"] = round(new_rate / copy_rate, 3)
        results["unchanged_speedup_vs_new"] = round(same_rate / new_rate, 2)
        results["goals_met"] = results["new_vs_copy"] >= 0.40 and (
            results["unchanged_speedup_vs_new"] >= 2.0
        )
        print(json.dumps(results, indent=2))
        return 0
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


if __name__ == "__main__":
    raise SystemExit(main())
