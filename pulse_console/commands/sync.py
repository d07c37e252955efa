"""`pulse-console integration add <type>|test` and `pulse-console sync NAME [--full]`.

One code path for every integration type; what differs per type (its `add` options, its
config, its pipeline, the item lines of the summary) is in `pulse_console.commands.sources`.
`integration add` checks the credentials before saving anything; the token goes to the secret
store under the client's and integration's ids, never into the config file or the database in
plaintext. `sync` runs the pipeline in the foreground with a progress line on stderr and
prints a summary. Expected failures are one line on stderr.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TextIO

from pulse_console.commands import database as opener
from pulse_console.commands.output import error, raw_stream, terminal_safe
from pulse_console.commands.sources import SOURCES, SourceType, UsageProblem, offered_sources
from pulse_console.services.roles import Action

if TYPE_CHECKING:  # the rest is imported by the command that runs (a cheap --help)
    from connectors.base import ConnectionCheck
    from pulse_console.config import Settings
    from pulse_console.pipelines.base import Progress, RunResult
    from storage.db import Database
    from storage.secrets import SecretStore

EXIT_OK, EXIT_FAILED, EXIT_REFUSED = 0, 1, 2


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add `integration …` and `sync …` to the top-level subparsers."""
    integration = sub.add_parser("integration", parents=[common], help="source connections")
    actions = integration.add_subparsers(title="integration commands", metavar="ACTION")
    actions.required = True
    add = actions.add_parser("add", parents=[common], help="add a source connection")
    kinds = add.add_subparsers(title="integration types", metavar="TYPE")
    kinds.required = True
    for source in offered_sources():
        parser = kinds.add_parser(source.name, parents=[common], help=source.help)
        parser.add_argument("--name", required=True, help=f"a short name, e.g. {source.name}-main")
        parser.add_argument(
            "--token-stdin",
            action="store_true",
            required=True,
            help="read the token from stdin"
            + ("; several (one a line) are used in turn" if source.several_tokens else ""),
        )
        source.add_options(parser)
        parser.add_argument(
            "--windows", type=int, metavar="N", help="chains read at once, 1-16 (default 4)"
        )
        parser.set_defaults(handler=run_integration_add, source=source.name)
    test = actions.add_parser("test", parents=[common], help="check an integration's credentials")
    test.add_argument("name")
    test.set_defaults(handler=run_integration_test)

    sync = sub.add_parser("sync", parents=[common], help="run an integration's sync now")
    sync.add_argument("name", help="integration name")
    sync.add_argument("--full", action="store_true", help="re-read everything, not just changes")
    sync.set_defaults(handler=run_sync)


# -- integration add / test ------------------------------------------------------------------


def run_integration_add(
    args: argparse.Namespace, settings: Settings, *, stdin: TextIO | None = None
) -> int:
    from pulse_console.inputs import BadInput, check_name
    from pulse_console.services.integration_fields import number_fields, number_problem
    from pulse_console.services.integrations import IntegrationDraft, check_connection
    from storage.integrations import record_connection_test, save_integration
    from storage.integrations import secret_name as integration_secret_name
    from storage.tenancy import ensure_client

    source = SOURCES[args.source]
    try:
        check_name("integration", args.name)
    except BadInput as exc:
        return _fail(str(exc), EXIT_REFUSED)
    lines = [line.strip() for line in (stdin or sys.stdin).read().splitlines()]
    tokens = [line for line in lines if line]
    if not tokens:
        return _fail("no token on stdin (pipe it in: `… --token-stdin < token.txt`)", EXIT_REFUSED)
    if len(tokens) > 1 and not source.several_tokens:
        return _fail(f"one {source.name} token on stdin, please (got {len(tokens)})", EXIT_REFUSED)
    try:
        base_url, config = source.settings(args)
    except UsageProblem as exc:
        return _fail(str(exc))
    if args.windows is not None:
        config["windows"] = args.windows
    for spec in number_fields(source.name):
        if problem := number_problem(spec, config.get(spec.key)):
            return _fail(f"--{spec.key.replace('_', '-')} must be {problem}")
    token = "\n".join(tokens)
    draft = IntegrationDraft(
        args.name, source.name, base_url, config.get("email", ""), token, config=config
    )
    # Tested as typed (blank lines kept), so a failure names the line of stdin.
    check = check_connection(draft, "\n".join(lines))
    if not check.ok:
        return _fail(f"not saved: {_sentence(check)}")
    database = opener.open_for(settings, Action.MANAGE_INTEGRATIONS)
    try:
        with database.session() as session:
            client_id = ensure_client(session, settings.client)
        with database.session() as session:
            integration_id = save_integration(
                session,
                client_id=client_id,
                name=args.name,
                type=source.name,
                base_url=base_url,
                config=config,
            )
            record_connection_test(
                session, integration_id, ok=True, message=check.message, at=datetime.now(UTC)
            )
            secret = integration_secret_name(client_id, integration_id)
            _secrets(database, settings).set(secret, token)
    finally:
        database.dispose()
    print(f"{check.message} Saved integration {args.name!r} for client {settings.client!r}.")
    return EXIT_OK


def run_integration_test(args: argparse.Namespace, settings: Settings) -> int:
    from pulse_console.pipelines.context import IntegrationNotFound, find_integration
    from pulse_console.services.integrations import check_saved

    database = opener.open_for(settings, Action.MANAGE_INTEGRATIONS)
    try:
        try:
            _, ref = find_integration(database, settings.client, args.name)
        except IntegrationNotFound as exc:
            return _fail(str(exc), EXIT_REFUSED)
        # The console's "test" too: the outcome is remembered on the integration.
        check = check_saved(database, settings.client, ref.id, _secrets(database, settings))
    finally:
        database.dispose()
    if not check.ok:
        return _fail(_sentence(check))
    print(check.message)
    return EXIT_OK


def _sentence(check: ConnectionCheck) -> str:
    return f"{check.title}: {check.message}" if check.title else check.message


# -- sync ------------------------------------------------------------------------------------


def run_sync(args: argparse.Namespace, settings: Settings) -> int:
    from connectors.errors import ConnectorError
    from connectors.http.cancel import CancelToken
    from pulse_console.pipelines.context import IntegrationNotFound, local_run_context

    database = opener.open_for(settings, Action.RUN_ENGINE)
    cancel = CancelToken()
    bar = ProgressLine(sys.stderr)
    try:
        try:
            ctx = local_run_context(
                database,
                _secrets(database, settings),
                settings.client,
                args.name,
                report=bar.update,
                cancel=cancel,
            )
        except IntegrationNotFound as exc:
            return _fail(str(exc), EXIT_REFUSED)
        source = SOURCES.get(ctx.integration.type)
        if source is None:
            return _fail(f"no sync pipeline for {ctx.integration.type!r} integrations yet")
        expected: tuple[type[Exception], ...] = (ConnectorError, *source.errors())
        try:
            result = source.pipeline(args.full).run(ctx)
        except KeyboardInterrupt:
            bar.finish()
            return _fail("interrupted; the last committed page is kept and the next run resumes")
        except expected as exc:
            # RateLimited and Cancelled are ConnectorErrors; a rate limit's says when to resume.
            bar.finish()
            return _fail(str(exc))
        bar.finish()
        print(summary(args.name, source, result))
        return EXIT_OK
    finally:
        database.dispose()


def summary(name: str, source: SourceType, result: RunResult) -> str:
    stats = result.stats
    return "\n".join(
        [
            f"{name}: {stats['mode']} sync finished in {stats['seconds']:.1f} s",
            *source.item_lines(stats),
            f"  API calls: {result.api_calls}   retries: {result.retries}   "
            f"rate-limit waits: {result.rate_limit_waits}",
        ]
    )


class ProgressLine:
    """A one-line progress bar on a terminal (plain lines when not a terminal)."""

    def __init__(self, stream: TextIO) -> None:
        # It writes its own cursor codes, so it takes the terminal under the safe filter.
        self.stream = raw_stream(stream)
        self.tty = stream.isatty()
        self._last = 0.0
        self._shown = False

    def update(self, p: Progress) -> None:
        now = time.monotonic()
        if now - self._last < (0.2 if self.tty else 5.0) and p.phase != "done":
            return
        self._last = now
        if p.total:
            filled = int(30 * min(p.done, p.total) / p.total)
            bar = f"[{'#' * filled}{'.' * (30 - filled)}] {p.done}/{p.total}"
        else:
            bar = f"{p.done}"
        wait = f" · waiting until {p.rate_limit_until:%H:%M:%S}" if p.rate_limit_until else ""
        line = terminal_safe(f"{p.phase:<12} {bar} · {p.api_calls} calls · {p.message}{wait}")
        if self.tty:
            self.stream.write("\r\033[K" + line[:200])
        else:
            self.stream.write(line + "\n")
        self.stream.flush()
        self._shown = True

    def finish(self) -> None:
        if self.tty and self._shown:
            self.stream.write("\n")
            self.stream.flush()


def _secrets(database: Database, settings: Settings) -> SecretStore:
    return opener.open_secrets(database, settings)


def _fail(message: str, code: int = EXIT_FAILED) -> int:
    error(message)
    return code
