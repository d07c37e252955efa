"""`pulse-console integration add jira|test` and `pulse-console sync NAME [--full]`.

`integration add jira` checks the credentials against `/myself` before saving anything; the
token goes to the secret store under `integration:<client>:<name>`, never into the config
file or the database in plaintext. `sync` runs the pipeline in the foreground with a
progress line on stderr and prints a summary. Expected failures are one line on stderr.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from typing import Any, TextIO

from connectors.errors import Cancelled, ConnectorError, RateLimited
from connectors.http import Secret
from connectors.http.cancel import CancelToken
from connectors.jira import JiraClient
from pulse_console.config import Settings
from pulse_console.pipelines.base import Progress
from pulse_console.pipelines.context import (
    IntegrationNotFound,
    find_integration,
    local_run_context,
)
from pulse_console.pipelines.jira.options import JiraConfigError, JiraSyncOptions
from pulse_console.pipelines.jira_sync import JiraSync, JiraSyncError
from storage.db import Database, open_database
from storage.integrations import record_connection_test, save_integration
from storage.integrations import secret_name as integration_secret_name
from storage.secrets import SecretStore, open_secret_store
from storage.tenancy import ensure_client

EXIT_OK, EXIT_FAILED, EXIT_REFUSED = 0, 1, 2
PIPELINES = {"jira": JiraSync}


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add `integration …` and `sync …` to the top-level subparsers."""
    integration = sub.add_parser("integration", parents=[common], help="source connections")
    actions = integration.add_subparsers(title="integration commands", metavar="ACTION")
    actions.required = True
    add = actions.add_parser("add", parents=[common], help="add a source connection")
    kinds = add.add_subparsers(title="integration types", metavar="TYPE")
    kinds.required = True
    jira = kinds.add_parser("jira", parents=[common], help="Jira Cloud or Data Center")
    jira.add_argument("--name", required=True, help="a short name, e.g. jira-main")
    jira.add_argument("--base-url", required=True, help="https://<site>.atlassian.net")
    jira.add_argument("--email", help="account e-mail (Jira Cloud)")
    jira.add_argument(
        "--token-stdin", action="store_true", required=True, help="read the API token from stdin"
    )
    jira.add_argument(
        "--data-center", action="store_true", help="Jira Data Center (personal access token)"
    )
    jira.add_argument(
        "--project", action="append", default=[], help="project key to sync (repeat; default all)"
    )
    jira.set_defaults(handler=run_integration_add_jira)
    test = actions.add_parser("test", parents=[common], help="check an integration's credentials")
    test.add_argument("name")
    test.set_defaults(handler=run_integration_test)

    sync = sub.add_parser("sync", parents=[common], help="run an integration's sync now")
    sync.add_argument("name", help="integration name")
    sync.add_argument("--full", action="store_true", help="re-read everything, not just changes")
    sync.set_defaults(handler=run_sync)


# -- integration add / test ------------------------------------------------------------------


def run_integration_add_jira(
    args: argparse.Namespace, settings: Settings, *, stdin: TextIO | None = None
) -> int:
    token = (stdin or sys.stdin).readline().strip()
    if not token:
        return _fail("no token on stdin (pipe it in: `… --token-stdin < token.txt`)", EXIT_REFUSED)
    if not args.data_center and not args.email:
        return _fail("Jira Cloud needs --email (the account the API token belongs to)")
    base_url = args.base_url.rstrip("/")
    client = _jira_client(base_url, args.email, token, args.data_center)
    ok, message = _check(client)
    if not ok:
        return _fail(f"not saved: {message}")
    config: dict[str, Any] = {"deployment": "data_center" if args.data_center else "cloud"}
    if args.email:
        config["email"] = args.email
    if args.project:
        config["projects"] = [p.upper() for p in args.project]
    secret_name = integration_secret_name(settings.client, args.name)
    database = open_database(settings.database_url, settings.data_dir)
    try:
        _secrets(database, settings).set(secret_name, token)
        with database.session() as session:
            client_id = ensure_client(session, settings.client)
            integration_id = save_integration(
                session,
                client_id=client_id,
                client=settings.client,
                name=args.name,
                type="jira",
                base_url=base_url,
                config=config,
            )
            record_connection_test(
                session, integration_id, ok=True, message=message, at=datetime.now(UTC)
            )
    finally:
        database.dispose()
    print(f"{message} Saved integration {args.name!r} for client {settings.client!r}.")
    return EXIT_OK


def run_integration_test(args: argparse.Namespace, settings: Settings) -> int:
    database = open_database(settings.database_url, settings.data_dir)
    try:
        try:
            _, ref = find_integration(database, settings.client, args.name)
            options = JiraSyncOptions.from_integration(ref)
        except (IntegrationNotFound, JiraConfigError) as exc:
            return _fail(str(exc), EXIT_REFUSED)
        token = _secrets(database, settings).get(integration_secret_name(settings.client, ref.name))
        if not token:
            return _fail(f"no token stored for {ref.name!r}; add the integration again")
        client = _jira_client(ref.base_url, options.email, token, options.deployment != "cloud")
        ok, message = _check(client)
    finally:
        database.dispose()
    if not ok:
        return _fail(message)
    print(message)
    return EXIT_OK


def _jira_client(base_url: str, email: str | None, token: str, data_center: bool) -> JiraClient:
    if data_center:
        return JiraClient.data_center(base_url, Secret(token))
    return JiraClient.cloud(base_url, email or "", Secret(token))


def _check(client: JiraClient) -> tuple[bool, str]:
    """One cheap authenticated call (`/myself`); expected failures become a sentence."""
    with client:
        try:
            me = client.myself()
        except ConnectorError as exc:
            return False, f"{exc.title}: {exc.message}"
    who = me.display_name or me.email_address or me.identity or "unknown user"
    return True, f"Connected to {client.http.config.base_url} as {who}."


# -- sync ------------------------------------------------------------------------------------


def run_sync(args: argparse.Namespace, settings: Settings) -> int:
    database = open_database(settings.database_url, settings.data_dir)
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
        pipeline_cls = PIPELINES.get(ctx.integration.type)
        if pipeline_cls is None:
            return _fail(f"no sync pipeline for {ctx.integration.type!r} integrations yet")
        try:
            result = pipeline_cls(full=args.full).run(ctx)
        except KeyboardInterrupt:
            bar.finish()
            return _fail("interrupted; the last committed page is kept and the next run resumes")
        except RateLimited as exc:
            bar.finish()
            return _fail(f"{exc.title}: {exc.message}")
        except (Cancelled, ConnectorError, JiraSyncError, JiraConfigError) as exc:
            bar.finish()
            return _fail(str(exc))
        bar.finish()
        print(
            summary(
                args.name, result.stats, result.api_calls, result.retries, result.rate_limit_waits
            )
        )
        return EXIT_OK
    finally:
        database.dispose()


def summary(name: str, stats: dict[str, Any], calls: int, retries: int, waits: int) -> str:
    quality = stats.get("quality", {})
    lines = [
        f"{name}: {stats['mode']} sync finished in {stats['seconds']:.1f} s",
        f"  items: {stats['issues']} seen, {stats['inserted']} new, {stats['updated']} updated, "
        f"{stats['deactivated']} deactivated, {stats['quarantined']} quarantined",
        f"  transitions written: {stats['transitions']}   links written: {stats['links']}",
        f"  API calls: {calls}   retries: {retries}   rate-limit waits: {waits}",
    ]
    if quality:
        lines.append(
            "  data quality: "
            f"{quality['issues_with_unmapped_status']} items with a status no flow step maps, "
            f"{quality['transitions_to_unknown_status']} transitions to unknown statuses, "
            f"{quality['linked_repositories_not_synced']} linked repositories not synced"
        )
    return "\n".join(lines)


class ProgressLine:
    """A one-line progress bar on a terminal (plain lines when not a terminal)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
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
        line = f"{p.phase:<12} {bar} · {p.api_calls} calls · {p.message}{wait}"
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
    return open_secret_store(database.engine, settings.data_dir)


def _fail(message: str, code: int = EXIT_FAILED) -> int:
    print(f"pulse-console: error: {message}", file=sys.stderr)
    return code
