"""`pulse-console`: the console (default) and the operator's commands.

Every failure an operator can cause (bad config, unreachable database or service, schema
behind, a file it cannot write) ends in one line on stderr and a meaningful exit code, never
a traceback: 0 done, 1 failed, 2 refused or misused. `_one_line` is the one place that maps
an exception class to that line. An unexpected error writes a crash report to the data dir
and says where it is. Log records of a job run in the foreground reach stderr as one line
each (`_log_to_stderr`), their tracebacks going only to the job's log.

Start-up: a command that does not open the console imports neither Textual nor the sandbox,
and `--version`/`--help` import no database code (heavy modules are imported where used;
`benchmarks/bench_cli_startup.py` measures it). A command may set a `light` default: a
function tried first, before the settings model is built, that answers with an exit code or
None to go the full way (`jobs list` reads with psycopg alone, commands/jobs.py).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from pulse_console import __version__
from pulse_console.commands.output import error, safe_output, terminal_safe

if TYPE_CHECKING:
    from pulse_console.config import Settings

EXIT_OK, EXIT_FAILED, EXIT_REFUSED = 0, 1, 2

Handler = Callable[[argparse.Namespace, "Settings"], int]


def _common(parser: argparse.ArgumentParser, *, default: object = None) -> None:
    group = parser.add_argument_group("global options")
    group.add_argument(
        "--config",
        type=Path,
        default=default,
        help="config file (default: $PULSE_CONFIG, then the user config dir)",
    )
    group.add_argument(
        "--database-url", default=default, help="PostgreSQL URL (default: embedded database)"
    )
    group.add_argument(
        "--data-dir",
        type=Path,
        default=default,
        help="data directory (embedded database, logs, keys)",
    )
    group.add_argument("--client", default=default, help="client (tenant) to work on")


def common_options() -> argparse.ArgumentParser:
    """Global options for subcommands; SUPPRESS so they never reset a value given earlier."""
    common = argparse.ArgumentParser(add_help=False)
    _common(common, default=argparse.SUPPRESS)
    return common


def build_parser() -> argparse.ArgumentParser:
    common = common_options()
    parser = argparse.ArgumentParser(
        prog="pulse-console",
        description="Terminal operations console and ETL engine for "
        "software-engineering intelligence.",
    )
    _common(parser)
    parser.add_argument("--version", action="version", version=f"pulse-console {__version__}")
    parser.add_argument(
        "--demo",
        action="store_true",
        help="serve a sandbox organisation locally and open the console on its demo client",
    )
    parser.add_argument(
        "--demo-size",
        choices=["tiny", "small", "medium", "large"],
        default="small",
        help="size of the demo organisation (default small)",
    )
    parser.add_argument(
        "--demo-scenario",
        type=Path,
        help="fault scenario for the demo's simulators (.toml/.json: latency, errors…)",
    )
    parser.set_defaults(handler=run_tui)
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")

    tui = sub.add_parser("tui", parents=[common], help="open the console (the default)")
    tui.add_argument(
        "--act-as",
        metavar="ROLE",
        help="work as a PostgreSQL role your login is a member of, with its rights and "
        "clients only (the web console runs each API token's console so)",
    )
    tui.set_defaults(handler=run_tui)

    db = sub.add_parser("db", parents=[common], help="database schema: upgrade, status, reset")
    db_sub = db.add_subparsers(title="db commands", metavar="ACTION", required=True)
    upgrade = db_sub.add_parser(
        "upgrade", parents=[common], help="migrate the schema to the latest revision"
    )
    upgrade.set_defaults(handler=run_db_upgrade)
    status = db_sub.add_parser(
        "status", parents=[common], help="show the schema revision and pending migrations"
    )
    status.add_argument("--json", action="store_true", help="machine-readable output")
    status.set_defaults(handler=run_db_status)
    reset = db_sub.add_parser(
        "reset", parents=[common], help="drop every table and migrate afresh (destroys data)"
    )
    reset.add_argument(
        "--yes", action="store_true", help="confirm: all data in this database is lost"
    )
    reset.set_defaults(handler=run_db_reset)

    config = sub.add_parser("config", parents=[common], help="configuration")
    config_sub = config.add_subparsers(title="config commands", metavar="ACTION", required=True)
    show = config_sub.add_parser(
        "show", parents=[common], help="print the effective configuration (secrets masked)"
    )
    show.add_argument("--json", action="store_true", help="JSON instead of TOML-like text")
    show.set_defaults(handler=run_config_show)

    from pulse_console.commands import audit as audit_commands
    from pulse_console.commands import clients as client_commands
    from pulse_console.commands import jobs as jobs_commands
    from pulse_console.commands import metrics as metrics_commands
    from pulse_console.commands import sandbox, serve
    from pulse_console.commands import sync as sync_commands
    from pulse_console.commands import users as user_commands

    sandbox.register(sub, common)
    sync_commands.register(sub, common)
    jobs_commands.register(sub, common)
    metrics_commands.register(sub, common)
    client_commands.register(sub, common)
    audit_commands.register(sub, common)
    serve.register(sub, common)
    user_commands.register(sub, common)
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    from pulse_console.config import load_settings

    return load_settings(
        args.config,
        database_url=args.database_url,
        data_dir=args.data_dir,
        client=args.client,
    )


def run_tui(args: argparse.Namespace, settings: Settings) -> int:
    from pulse_console.commands.database import open_for
    from pulse_console.engine.service import PoolService, connect
    from pulse_console.metrics.settings import MetricsSettings
    from pulse_console.pipelines.registry import default_registry
    from pulse_console.services import identity
    from pulse_console.services.client_services import ClientServices
    from pulse_console.services.roles import Action
    from pulse_console.services.settings import ConsoleSettings
    from pulse_console.tui.app import PulseApp
    from pulse_console.tui.context import ConsoleContext
    from pulse_console.tui.engine_jobs import EngineJobs
    from storage import migrate
    from storage.secrets import open_secret_store

    opened = open_for(settings, Action.READ)
    act_as = getattr(args, "act_as", None)
    database = opened.acting_as(act_as) if act_as else opened
    demo = None
    jobs = None
    ctx: ConsoleContext | None = None
    try:
        if not database.embedded:
            migrate.require_current(database.engine)
        client = settings.client
        if getattr(args, "demo", False):
            from connectors.sandbox.timefmt import current_anchor_ms
            from pulse_console.demo import start_demo

            demo = start_demo(
                database,
                settings.data_dir,
                size=args.demo_size,
                scenario=args.demo_scenario,
                now_ms=current_anchor_ms(),  # the demo's history ends now
            )
            client = demo.client

        secrets = open_secret_store(database.engine, settings.data_dir)
        me = identity.current(database)
        drive = identity.allows(me.role, Action.RUN_ENGINE)

        def open_client(name: str) -> tuple[ClientServices, EngineJobs]:
            """The services and engine of client `name` (at start, and on `:clients`)."""

            def engine() -> PoolService:
                return connect(
                    database,
                    settings,
                    default_registry(),
                    client=name,
                    background=True,
                    drive=drive,
                )

            services = ClientServices(
                database,
                name,
                log_dir=settings.log_dir,
                secrets=secrets,
                defaults=ConsoleSettings.from_config(settings),
                metrics_defaults=MetricsSettings(benchmark_year=settings.metrics.benchmark_year),
            )
            return services, EngineJobs(engine(), reconnect=engine)

        services, jobs = open_client(client)
        ctx = ConsoleContext(
            services=services,
            jobs=jobs,
            export_dir=settings.data_dir / "exports",
            keymap=dict(settings.keymap),
            signals=True,
            open_client=open_client,
            role=me.role,
            operator=None if me.owner else me.label,
        )
        PulseApp(ctx).run()
        return EXIT_OK
    finally:
        if ctx is not None:
            ctx.jobs.close()  # the client's the console ended on (`:clients` switches)
        elif jobs is not None:
            jobs.close()
        if demo is not None:
            demo.stop()
        opened.dispose()


def run_db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    from pulse_console.commands.database import open_configured
    from storage import migrate

    database = open_configured(settings, upgrade_embedded=False)
    try:
        before = migrate.status(database.engine)
        migrate.upgrade(database.engine)
        after = migrate.status(database.engine)
        print(
            f"{database.display_url}: {before.current or 'empty'} → {after.current}",
            f"({after.describe()})",
        )
        return EXIT_OK
    finally:
        database.dispose()


def run_db_status(args: argparse.Namespace, settings: Settings) -> int:
    from pulse_console.commands.database import open_configured
    from storage import migrate

    database = open_configured(settings, upgrade_embedded=False)
    try:
        state = migrate.status(database.engine)
        if args.json:
            print(
                json.dumps(
                    {
                        "database": database.display_url,
                        "embedded": database.embedded,
                        "current": state.current,
                        "head": state.head,
                        "pending": state.pending,
                        "up_to_date": state.up_to_date,
                    }
                )
            )
        else:
            print(f"database: {database.display_url}{' (embedded)' if database.embedded else ''}")
            print(state.describe())
        return EXIT_OK if state.up_to_date else EXIT_REFUSED
    finally:
        database.dispose()


def run_db_reset(args: argparse.Namespace, settings: Settings) -> int:
    from pulse_console.commands.database import open_configured
    from storage import migrate

    if not args.yes:
        print(
            "pulse-console: refused: `db reset` deletes every row; run it again with --yes",
            file=sys.stderr,
        )
        return EXIT_REFUSED
    database = open_configured(settings, upgrade_embedded=False)
    try:
        migrate.reset_database(database.engine)
        print(f"{database.display_url}: reset to an empty schema at {migrate.head_revision()}")
        return EXIT_OK
    finally:
        database.dispose()


def run_config_show(args: argparse.Namespace, settings: Settings) -> int:
    data = settings.masked()
    if args.json:
        print(json.dumps(data, indent=2))
    else:
        _print_toml_like(data)
    return EXIT_OK


def _print_toml_like(data: dict[str, object], prefix: str = "") -> None:
    tables = {k: v for k, v in data.items() if isinstance(v, dict)}
    lists = {k: v for k, v in data.items() if isinstance(v, list) and v and isinstance(v[0], dict)}
    for key, value in data.items():
        if key not in tables and key not in lists:
            print(f"{key} = {json.dumps(value)}")
    for key, value in tables.items():
        print(f"\n[{prefix}{key}]")
        _print_toml_like(value, prefix=f"{prefix}{key}.")
    for key, items in lists.items():
        for item in items:
            print(f"\n[[{prefix}{key}]]")
            for k, v in item.items():
                print(f"{k} = {json.dumps(v)}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler = args.handler
    if handler is run_tui:  # Textual owns the terminal and writes its own escape codes
        return _run(handler, args)
    stderr_log = _StderrLog()
    logging.getLogger().addHandler(stderr_log)
    try:
        with safe_output():
            return _run(handler, args)
    finally:
        logging.getLogger().removeHandler(stderr_log)


def _run(handler: Handler, args: argparse.Namespace) -> int:
    settings: Settings | None = None
    try:
        light: Callable[[argparse.Namespace], int | None] | None = getattr(args, "light", None)
        done = light(args) if light is not None else None
        if done is not None:  # answered without the settings model and the engine
            return done
        settings = _settings(args)
        return handler(args, settings)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`… | head -1`): nothing more to say to it.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        error("the output was closed before everything was written (broken pipe)")
        return EXIT_FAILED
    except Exception as exc:  # the last line of defence: never a traceback on the console
        known = _one_line(exc)
        if known is not None:
            message, code = known
            error(message)
            return code
        report = _write_crash_report(settings, exc)
        error(f"unexpected error: {type(exc).__name__}: {exc}. Details were written to {report}")
        return EXIT_FAILED


class _NeverRaised(Exception):
    """Stands for an error class whose module this process never imported."""


def _loaded_class(module: str, name: str) -> type[Exception]:
    found = getattr(sys.modules.get(module), name, _NeverRaised)
    return found if isinstance(found, type) and issubclass(found, Exception) else _NeverRaised


def _one_line(exc: Exception) -> tuple[str, int] | None:
    """The operator's line and exit code for an expected failure, else None (a bug)."""
    from sqlalchemy.exc import SQLAlchemyError

    from connectors.errors import ConnectorError
    from pulse_console.config import ConfigError
    from pulse_console.services.roles import RoleRefused
    from storage.db import DatabaseError
    from storage.embedded import EmbeddedDatabaseError
    from storage.tenancy import UnknownClient

    # Alembic and the secret store's crypto are slow to import: a command that never
    # loaded them cannot have raised their errors, so a refusal stays fast.
    if isinstance(
        exc, ConfigError | UnknownClient | _loaded_class("storage.migrate", "SchemaBehind")
    ):
        return str(exc), EXIT_REFUSED
    secret_error = _loaded_class("storage.secrets", "SecretStoreError")
    if isinstance(exc, DatabaseError | EmbeddedDatabaseError | secret_error):
        return str(exc), EXIT_FAILED
    if isinstance(exc, RoleRefused):
        return str(exc), EXIT_REFUSED
    refused = _refused_by_database(exc)
    if refused:
        return refused, EXIT_REFUSED
    if isinstance(exc, ConnectorError):  # its title and message are written for operators
        return f"{exc}; nothing after the last checkpoint was lost", EXIT_FAILED
    if isinstance(exc, SQLAlchemyError):
        return (
            f"the database connection failed: {_first_line(exc)}; nothing after the last "
            "commit was lost, run the command again when the database answers",
            EXIT_FAILED,
        )
    if isinstance(exc, OSError):
        where = f" ({exc.filename})" if exc.filename else ""
        return f"{exc.strerror or exc}{where}: check the path and its permissions", EXIT_FAILED
    return None


def _refused_by_database(exc: Exception) -> str | None:
    """PostgreSQL's own refusal (a GRANT or a row-level security policy), as one line."""
    insufficient = _loaded_class("psycopg.errors", "InsufficientPrivilege")
    cause = getattr(exc, "orig", exc)
    if not isinstance(cause, insufficient):
        return None
    return f"refused by the database: {_first_line(cause)} (ask an admin for the role it needs)"


class _StderrLog(logging.Handler):
    """Warnings of a foreground run (retries, a failed run) as one line each on stderr.

    Without a handler Python's last-resort one would print each record's traceback; the
    traceback stays in the job's log. The worker replaces the root handlers with JSON lines.
    """

    def __init__(self) -> None:
        super().__init__(logging.WARNING)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = terminal_safe(record.getMessage())
            print(f"pulse-console: {record.levelname.lower()}: {line}", file=sys.stderr)
        except Exception:  # a log line must never end the command
            self.handleError(record)


def _first_line(exc: Exception) -> str:
    cause = getattr(exc, "orig", None) or exc
    return (str(cause).strip().splitlines() or [type(cause).__name__])[0]


def _write_crash_report(settings: Settings | None, exc: BaseException) -> Path:
    import traceback

    from connectors.secret import redact
    from pulse_console.config import default_data_dir
    from pulse_console.files import private_dir, write_private

    directory = (settings.data_dir if settings else default_data_dir()) / "crash"
    private_dir(directory)
    path = directory / f"crash-{datetime.now(UTC):%Y%m%dT%H%M%S}.txt"
    write_private(path, redact("".join(traceback.format_exception(exc))))
    return path


if __name__ == "__main__":
    raise SystemExit(main())
