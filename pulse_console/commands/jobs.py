"""`pulse-console worker`, `workers`, `jobs …` and `orchestrator …`: the scriptable controls.

A control acts on the client's state in the database as the caller's login; a run it starts
is deferred to the worker pool, and a stop or pause reaches whichever worker executes the
run (attached mode). With no worker serving the client, the command acts alone (embedded
mode): a started job runs here, to its end, before the command returns.
Exit codes: 0 done, 2 refused (the reason on stderr), 1 failed.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from typing import TYPE_CHECKING, Any

from pulse_console.commands import database as opener
from pulse_console.commands.serve import add_server_options, add_web_options

# Only the vocabulary at import: building the parser (`--version`, `--help`) loads no
# database or engine code; each command imports what it runs.
from pulse_console.engine.control_names import Control, missing_job
from pulse_console.services.roles import Action

if TYPE_CHECKING:
    from pulse_console.config import Settings
    from pulse_console.engine.controls import ControlResult
    from pulse_console.engine.job_view import JobView
    from pulse_console.engine.service import EngineStatus

# The CLI words of the controls (`jobs set-active`, `orchestrator start`): from `Control`.
JOB_CONTROLS = {c.verb: c for c in Control if c.needs_job}
ORCHESTRATOR_CONTROLS = {c.verb: c for c in Control if not c.needs_job}
JOB_ACTIONS = ["list", *JOB_CONTROLS]
ORCHESTRATOR_ACTIONS = ["status", *ORCHESTRATOR_CONTROLS, "set"]


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    worker = sub.add_parser(
        "worker",
        parents=[common],
        help="a worker of the pool, headless (JSON-lines logs on stdout)",
        description="Run the clients' jobs as one worker of the pool (any number of workers, "
        "on any machines, against one PostgreSQL). SIGTERM stops its runs at a batch "
        "boundary (another worker resumes them) and exits 0.",
    )
    worker.add_argument("--name", help="worker name shown to consoles (default host:pid)")
    worker.add_argument(
        "--concurrency",
        type=_positive,
        help="runs at once in this worker, of different clients (default [pool] concurrency, 1)",
    )
    worker.add_argument(
        "--clients",
        nargs="+",
        metavar="CLIENT",
        help="serve only these clients (default: every client the login may see)",
    )
    worker.add_argument(
        "--queues",
        nargs="+",
        metavar="SOURCE",
        help="serve only these sources' runs: jira, github, azure_devops, aha (default all)",
    )
    worker.add_argument(
        "--serve", action="store_true", help="also serve the HTTP API (see `serve`)"
    )
    add_server_options(worker)
    add_web_options(worker, implies=" (and the API: implies --serve)")
    worker.set_defaults(handler=run_worker_command)

    workers = sub.add_parser(
        "workers",
        parents=[common],
        help="the pool's workers: name, host, heartbeat, concurrency, current runs",
        description="List the workers of the pool that beat recently and the runs they hold.",
    )
    workers.add_argument("--json", action="store_true", help="machine-readable output")
    workers.set_defaults(handler=run_workers_command)

    jobs = sub.add_parser(
        "jobs",
        parents=[common],
        help="list the client's jobs, or start/stop/pause/resume/set-active one",
        description="Job controls; a started run goes to the worker pool, a stop or pause to "
        "the worker that runs the job. Exit codes: 0 done, 2 refused (reason on stderr), 1 failed.",
    )
    jobs.add_argument("action", nargs="?", default="list", choices=JOB_ACTIONS)
    jobs.add_argument("job", nargs="?", help="job name: its integration's name, e.g. sandbox-jira")
    jobs.add_argument("--json", action="store_true", help="machine-readable output")
    jobs.set_defaults(handler=run_jobs_command, light=quick_jobs_list)

    orch = sub.add_parser(
        "orchestrator",
        parents=[common],
        help="orchestrator status, start (the chain now), pause, resume, set KEY VALUE",
        description="Orchestrator controls and run-time settings ("
        "orchestrator.interval_minutes, retry.enabled, retry.interval_minutes, "
        "retry.max_attempts). Exit codes: 0 done, 2 refused, 1 failed.",
    )
    orch.add_argument("action", nargs="?", default="status", choices=ORCHESTRATOR_ACTIONS)
    orch.add_argument("key", nargs="?", help="setting key (for `set`)")
    orch.add_argument("value", nargs="?", help="setting value as JSON (for `set`)")
    orch.add_argument("--json", action="store_true", help="machine-readable output")
    orch.set_defaults(handler=run_orchestrator_command)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not 1 <= value <= 256:
        raise argparse.ArgumentTypeError(f"must be between 1 and 256, not {value}")
    return value


def run_worker_command(args: argparse.Namespace, settings: Settings) -> int:
    from pulse_console.engine.logformat import configure_json_logging
    from pulse_console.engine.pool import PoolOptions, default_worker_name, run_pool
    from pulse_console.pipelines.registry import default_registry
    from storage import migrate
    from storage.tenancy import require_client

    configure_json_logging(settings.logging.level)
    database = opener.open_for(settings, Action.RUN_ENGINE)
    serving = None
    try:
        if not database.embedded:
            migrate.require_current(database.engine)
        if args.serve or args.web:  # the API answers for whoever drives the client
            serving = _start_serving(database, settings, args)
            if serving is None:
                return 1
        registry = default_registry()
        secret = _secret_lookup(database, settings)  # a bad key is said first, in one line
        # --clients, or the one --client named (as before the pool), or every client
        named = args.clients or ([args.client] if getattr(args, "client", None) else None)
        clients = tuple(named) if named else None
        with database.session() as session:
            for name in clients or ():
                require_client(session, name)  # a typo never creates a client
        unknown = sorted(set(args.queues or ()) - set(registry))
        if unknown:
            known = ", ".join(registry)
            print(
                f"pulse-console: refused: no source {', '.join(unknown)}; sources: {known}",
                file=sys.stderr,
            )
            return 2
        options = PoolOptions.from_settings(
            settings,
            args.name or default_worker_name(),
            concurrency=args.concurrency,
            clients=clients,
            sources=tuple(args.queues) if args.queues else None,
        )
        return run_pool(database, settings, registry, options, secret=secret)
    finally:
        if serving is not None:
            serving.stop()
        database.dispose()


def _start_serving(database: Any, settings: Settings, args: argparse.Namespace) -> Any:
    """`serve`'s API (and web console) inside the worker, its addresses logged; None (the
    reason said in one line) when one cannot listen."""
    from pulse_console.api.server import ServerFailed
    from pulse_console.commands.serve import start_serving

    try:
        serving = start_serving(database, settings, args)
    except (ServerFailed, OSError) as exc:
        print(f"pulse-console: error: {exc}", file=sys.stderr)
        return None
    log = logging.getLogger("pulse.worker")
    log.info("serving the API", extra={"event": "serving", "url": serving.api.url})
    if serving.web is not None:
        log.info(
            "serving the web console (open /?token=<API token>)",
            extra={"event": "serving_web", "url": serving.web.url},
        )
    return serving


def _secret_lookup(database: Any, settings: Settings) -> Any:
    # A bad key is the worker's problem to report now, not "no token" at every run.
    return opener.open_secrets(database, settings).get


def quick_jobs_list(args: argparse.Namespace) -> int | None:
    """`jobs list` on the light path (psycopg, no SQLAlchemy, no settings model): the exit
    code, or None when only the full path can answer (see engine/quick_listing.py)."""
    if args.action != "list":
        return None
    from pulse_console.config_lookup import connection_target
    from pulse_console.engine.quick_listing import read_listing
    from pulse_console.pipelines.registry import PIPELINES

    target = connection_target(args.config, args.database_url, args.client)
    if target is None:
        return None
    listing = read_listing(target.conninfo, target.client, tuple(PIPELINES))
    if listing is None:
        return None
    _print_jobs(listing.client, listing.leader, listing.jobs, args.json)
    return 0


def _print_jobs(client: str, leader: str | None, jobs: list[JobView], as_json: bool) -> None:
    """The `jobs list` output, from either path."""
    if as_json:
        print(json.dumps([job.as_json() for job in jobs], indent=2))
        return
    print(f"client {client} · driven by {leader or 'nobody'}")
    _print_job_lines(jobs)


def _print_job_lines(jobs: list[JobView]) -> None:
    if not jobs:
        print("no jobs yet: add an integration; its sync job appears here")
    for job in jobs:
        when = job.next_run_at.strftime("%Y-%m-%d %H:%M UTC") if job.next_run_at else "—"
        print(f"  {job.name:<20} {job.status:<9} next {when:<21} {job.status_reason or ''}")


def _print_status(status: EngineStatus, as_json: bool, *, jobs_only: bool) -> None:
    if jobs_only:
        _print_jobs(status.client, status.leader, status.jobs, as_json)
        return
    if as_json:
        print(json.dumps(status.as_json(), indent=2))
        return
    driver = status.leader or "nobody"  # the orchestrator line says what that means
    print(f"client {status.client} · driven by {driver}")
    print(f"orchestrator: {orchestrator_state(status.leader, status.orchestrator_paused)}")
    for key, value in sorted(status.settings.items()):
        print(f"  {key} = {json.dumps(value)}")
    _print_job_lines(status.jobs)


def orchestrator_state(leader: str | None, paused: bool) -> str:
    """What the orchestrator is doing: it runs only where a worker (or a console) drives
    the client, so with nobody driving it is idle, never "running"."""
    if leader is None:
        idle = "idle — no worker drives this client (run `pulse-console worker` or the console)"
        return f"paused, and {idle}" if paused else idle
    if paused:
        return f"paused in {leader} (`orchestrator resume` resumes it)"
    return f"running in {leader}"


def _report(result: ControlResult, as_json: bool, mode: str) -> int:
    if as_json:
        print(
            json.dumps(
                {
                    "ok": result.ok,
                    "refused": result.refused,
                    "message": result.message,
                    "mode": mode,
                }
            )
        )
    if result.ok:
        if not as_json:
            print(result.message)
    else:
        word = "refused" if result.refused else "failed"
        print(f"pulse-console: {word}: {result.message}", file=sys.stderr)
    return result.exit_code


def _with_service(
    args: argparse.Namespace,
    settings: Settings,
    call: Any,
    read_only: bool = False,
    needs: Action = Action.CONTROL,
) -> int:
    from pulse_console.engine.service import PoolService, connect
    from pulse_console.pipelines.registry import default_registry
    from pulse_console.services import identity
    from storage.tenancy import require_client

    database = opener.open_for(settings, Action.READ if read_only else needs)
    try:
        with database.session() as session:
            require_client(session, settings.client)  # a typo never creates a client
        registry = default_registry()
        if read_only:
            service = PoolService(database, settings, registry)
            try:
                service.ensure_jobs(registry.order)  # integrations added just now
                status = service.status()
            finally:
                service.close()
            _print_status(status, args.json, jobs_only=args.command_name == "jobs")
            return 0
        me = identity.current(database)  # a login that may not run the engine only attaches
        drive = identity.allows(me.role, Action.RUN_ENGINE)
        service = connect(database, settings, registry, drive=drive)
        try:
            result: ControlResult = call(service)
            return _report(result, args.json, service.mode)
        finally:
            service.close()
    finally:
        database.dispose()


def run_workers_command(args: argparse.Namespace, settings: Settings) -> int:
    from pulse_console.engine.pool_view import list_workers

    database = opener.open_for(settings, Action.READ)
    try:
        workers = list_workers(database, settings.pool.stall_seconds)
    finally:
        database.dispose()
    if args.json:
        print(json.dumps([w.as_json() for w in workers], indent=2))
        return 0
    if not workers:
        print("no workers: start one with `pulse-console worker` (or open the console)")
    for w in workers:
        beat = w.heartbeat.strftime("%H:%M:%S UTC") + (" STALLED" if w.stalled else "")
        runs = ", ".join(f"{r.client}/{r.job} (run {r.run_id})" for r in w.runs) or "idle"
        print(f"{w.name:<28} {w.host:<16} beat {beat:<22} x{w.concurrency:<3} {runs}")
    return 0


def run_jobs_command(args: argparse.Namespace, settings: Settings) -> int:
    args.command_name = "jobs"
    if args.action == "list":
        return _with_service(args, settings, None, read_only=True)
    control = JOB_CONTROLS[args.action]
    refusal = missing_job(control, args.job)
    if refusal:
        print(f"pulse-console: refused: {refusal}", file=sys.stderr)
        return 2
    return _with_service(args, settings, lambda service: service.control(control, args.job))


def run_orchestrator_command(args: argparse.Namespace, settings: Settings) -> int:
    args.command_name = "orchestrator"
    if args.action == "status":
        return _with_service(args, settings, None, read_only=True)
    if args.action == "set":
        if not args.key or args.value is None:
            print("pulse-console: refused: usage: orchestrator set KEY VALUE", file=sys.stderr)
            return 2
        try:
            value = json.loads(args.value)
        except json.JSONDecodeError:
            value = args.value
        return _with_service(
            args,
            settings,
            lambda s: s.set_setting(args.key, value),
            needs=Action.MANAGE_SETTINGS,
        )
    control = ORCHESTRATOR_CONTROLS[args.action]
    return _with_service(args, settings, lambda service: service.control(control))
