"""Benchmark the service face under load during a sync.

A `pulse-console serve` process answers for a scratch schema while this process drives the
client (an embedded orchestrator, as a worker would) with the Jira sync of a sandbox
organisation. A load process runs `--pollers` clients, each polling `GET …/jobs` every
`--interval` seconds with a token of its own, and `--subscribers` WebSocket clients
following `…/progress`. Three full syncs run: a warm-up (first load), one without load
(baseline) and one started through the API under load. Reports the pollers' latency
(p50/p99) and errors during the loaded sync, WebSocket events received (and how many
sockets saw the run FINISHED), and the sync's rate (issues/s) with and without load.

Usage: python benchmarks/bench_api.py [--size small] [--pollers 200] [--subscribers 50]
       [--interval 1.0] [--url postgresql+psycopg://…]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

ROOT = Path(__file__).resolve().parents[1]
CLIENT = "acme"


# --- the load process ---------------------------------------------------------------------


async def _poller(
    http: httpx.AsyncClient, token: str, interval: float, stop: asyncio.Event, out: dict[str, Any]
) -> None:
    await asyncio.sleep(random.uniform(0, interval))
    headers = {"Authorization": f"Bearer {token}"}
    while not stop.is_set():
        started = time.perf_counter()
        try:
            answer = await http.get(f"/api/v1/clients/{CLIENT}/jobs", headers=headers)
            ok, why = answer.status_code == 200, str(answer.status_code)
        except httpx.HTTPError as exc:
            ok, why = False, type(exc).__name__
        if out["recording"]:  # the figures are of the sync's window only
            out["latencies"].append(time.perf_counter() - started)
            if not ok:
                out["errors"] += 1
                out["error_kinds"][why] = out["error_kinds"].get(why, 0) + 1
        elif not ok:
            out["errors_before_sync"] += 1
        await asyncio.sleep(max(0.0, interval - (time.perf_counter() - started)))


async def _subscriber(
    ws_base: str, token: str, stop: asyncio.Event, ready: list[int], out: dict[str, Any]
) -> None:
    from websockets.asyncio.client import connect

    try:
        async with connect(
            f"{ws_base}/api/v1/clients/{CLIENT}/progress",
            additional_headers={"Authorization": f"Bearer {token}"},
        ) as ws:
            ready.append(1)
            while not stop.is_set():
                try:
                    payload = await asyncio.wait_for(ws.recv(), 0.5)
                except TimeoutError:
                    continue
                out["events"] += 1
                if json.loads(payload).get("status") == "FINISHED":
                    out["finished_seen"] += 1
    except Exception:
        out["ws_errors"] += 1


async def _load(args: argparse.Namespace) -> dict[str, Any]:
    tokens: list[str] = json.loads(Path(args.tokens).read_text())
    out: dict[str, Any] = {
        "latencies": [],
        "recording": False,
        "errors_before_sync": 0,
        "error_kinds": {},
        "errors": 0,
        "events": 0,
        "finished_seen": 0,
        "ws_errors": 0,
    }
    stop = asyncio.Event()
    ready: list[int] = []
    ws_base = args.load.replace("http://", "ws://")
    subscribers = [
        asyncio.create_task(_subscriber(ws_base, tokens[i], stop, ready, out))
        for i in range(args.subscribers)
    ]
    while len(ready) + out["ws_errors"] < args.subscribers:
        await asyncio.sleep(0.05)
    # One client (one connection pool) for every poller: 200 clients of their own would
    # spend the load process's first seconds building SSL contexts, not polling.
    limits = httpx.Limits(max_connections=args.pollers, max_keepalive_connections=args.pollers)
    async with httpx.AsyncClient(base_url=args.load, limits=limits, timeout=60) as http:
        pollers = [
            asyncio.create_task(
                _poller(http, tokens[args.subscribers + i], args.interval, stop, out)
            )
            for i in range(args.pollers)
        ]
        print("ready", flush=True)
        await asyncio.to_thread(sys.stdin.readline)  # the driver starts the sync
        out["recording"] = True
        await asyncio.to_thread(sys.stdin.readline)  # … and says when it is over
        out["recording"] = False
        await asyncio.to_thread(sys.stdin.readline)  # the last events have had their time
        stop.set()
        await asyncio.gather(*pollers, *subscribers)
    lat = sorted(out.pop("latencies"))
    out.pop("recording")
    return {
        **out,
        "requests": len(lat),
        "p50_ms": round(statistics.median(lat) * 1000, 1) if lat else None,
        "p99_ms": round(lat[int(len(lat) * 0.99) - 1] * 1000, 1) if lat else None,
        "max_ms": round(lat[-1] * 1000, 1) if lat else None,
    }


# --- the driver ---------------------------------------------------------------------------


def _serve(url: str, data_dir: Path) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pulse_console.cli",
            "serve",
            "--port",
            "0",
            "--database-url",
            url,
            "--client",
            CLIENT,
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PULSE_DATA_DIR": str(data_dir)},
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    found = re.search(r"http://127\.0\.0\.1:\d+", line)
    if not found:
        raise SystemExit(f"serve did not start: {line}{proc.stdout.read()}")
    threading.Thread(target=proc.stdout.read, daemon=True).start()
    return proc, found.group()


def _drive(args: argparse.Namespace) -> dict[str, Any]:
    from sqlalchemy import func, select, text

    from connectors.sandbox.org import Org
    from pulse_console.config import Settings
    from pulse_console.engine import runtime_settings
    from pulse_console.pipelines.registry import PipelineRegistry
    from pulse_console.services import api_tokens
    from storage.db import Database
    from storage.models import JobRun
    from storage.testing import find_test_server, scratch_schema
    from tests.api.conftest import Driver, ensure_client_id
    from tests.pipelines.harness import INTEGRATION, Sandbox, add_integration

    url = args.url or find_test_server()
    data_dir = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench-api-{os.getpid()}"
    with scratch_schema(url) as engine:
        with engine.connect() as conn:
            schema = conn.execute(text("SELECT current_schema()")).scalar_one()
        schema_url = f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"
        database = Database(engine=engine, embedded=False)
        org = Org(args.seed, args.size)
        sandbox = Sandbox(org)
        secrets = add_integration(database)
        with database.session() as session:
            runtime_settings.set_setting(
                session, ensure_client_id(database), "orchestrator.paused", True, actor="bench"
            )
        registry = PipelineRegistry()
        registry.register("jira", lambda: sandbox.pipeline(full=True))
        settings = Settings(client=CLIENT, data_dir=data_dir)
        tokens = [
            api_tokens.create(database, CLIENT, "viewer", name=f"load-{n}", actor="bench")[0]
            for n in range(args.pollers + args.subscribers)
        ]
        user, _ = api_tokens.create(database, CLIENT, "user", name="bench", actor="bench")
        tokens_file = data_dir / "tokens.json"
        data_dir.mkdir(parents=True, exist_ok=True)
        tokens_file.write_text(json.dumps(tokens))
        driver = Driver(database, settings, registry, secret=secrets.get)
        server, base = _serve(schema_url, data_dir)

        def finished_after(run_id: int) -> Any:
            with database.session() as session:
                return session.execute(
                    select(JobRun)
                    .where(JobRun.id > run_id, JobRun.finished_at.is_not(None))
                    .order_by(JobRun.id.desc())
                    .limit(1)
                ).scalar_one_or_none()

        def sync(start: Any) -> dict[str, Any]:
            with database.session() as session:
                before = session.execute(select(func.coalesce(func.max(JobRun.id), 0))).scalar()
            start()
            while (run := finished_after(int(before or 0))) is None:
                time.sleep(0.1)
            seconds = (run.finished_at - run.started_at).total_seconds()
            return {
                "status": run.status,
                "records": run.records,
                "seconds": round(seconds, 2),
                "issues_per_second": round(org.issue_count / seconds, 1),
            }

        def start_embedded() -> None:
            assert driver.orchestrator.start(INTEGRATION).ok

        def start_via_api() -> None:
            answer = httpx.post(
                f"{base}/api/v1/clients/{CLIENT}/jobs/{INTEGRATION}/start",
                headers={"Authorization": f"Bearer {user}"},
                timeout=30,
            )
            assert answer.status_code == 200, answer.text

        try:
            warm_up = sync(start_embedded)
            baseline = sync(start_embedded)
            load = subprocess.Popen(
                [
                    sys.executable,
                    __file__,
                    "--load",
                    base,
                    "--tokens",
                    str(tokens_file),
                    "--pollers",
                    str(args.pollers),
                    "--subscribers",
                    str(args.subscribers),
                    "--interval",
                    str(args.interval),
                ],
                cwd=ROOT,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            assert load.stdin is not None and load.stdout is not None
            assert load.stdout.readline().strip() == "ready"
            time.sleep(args.interval * 5)  # every poller is polling (its token looked up)

            def start_loaded() -> None:
                load.stdin.write("sync\n")  # type: ignore[union-attr]
                load.stdin.flush()  # type: ignore[union-attr]
                start_via_api()

            loaded = sync(start_loaded)
            load.stdin.write("done\n")
            load.stdin.flush()
            time.sleep(5.0)  # the last events reach the sockets
            load.stdin.write("\n")
            load.stdin.flush()
            figures = json.loads(load.stdout.read())
            load.wait(60)
        finally:
            server.terminate()
            server.wait(30)
            driver.close()
    change = (loaded["issues_per_second"] / baseline["issues_per_second"] - 1) * 100
    return {
        "organisation": {"size": args.size, "issues": org.issue_count},
        "pollers": args.pollers,
        "poll_interval_s": args.interval,
        "subscribers": args.subscribers,
        "load_average": os.getloadavg(),
        "sync_warm_up": warm_up,
        "sync_without_load": baseline,
        "sync_under_load": loaded,
        "sync_rate_change_percent": round(change, 1),
        "api": figures,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", default="small", choices=["tiny", "small", "medium", "large"])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--pollers", type=int, default=200)
    parser.add_argument("--subscribers", type=int, default=50)
    parser.add_argument("--interval", type=float, default=1.0)
    parser.add_argument("--url", help="PostgreSQL URL (default: the test server)")
    parser.add_argument("--load", help=argparse.SUPPRESS)  # internal: run as the load process
    parser.add_argument("--tokens", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.load:
        print(json.dumps(asyncio.run(_load(args))), flush=True)
        return 0
    print(json.dumps(_drive(args), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
