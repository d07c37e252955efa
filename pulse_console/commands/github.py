"""GitHub commands: add an integration, test it, run a sync.

Registered as ``pulse-console github integration add|test`` and ``pulse-console github sync``
so they cannot collide with the shared ``integration``/``sync`` commands being written for
Jira. To merge: ``integration add <type>`` calls :func:`add_arguments` for ``github`` and
dispatches to :func:`run_add`; ``integration test NAME`` and ``sync NAME`` look up the
integration's type and call :func:`run_test` / :func:`run_sync` for ``github``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from pulse_console.config import Settings
from pulse_console.pipelines.base import IntegrationRef, Progress
from storage.integrations import save_integration
from storage.integrations import secret_name as _secret_name

DEFAULT_BASE_URL = "https://api.github.com"


def register_github(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser,
) -> None:
    github = sub.add_parser("github", parents=[common], help="GitHub integrations and sync")
    actions = github.add_subparsers(title="github commands", metavar="ACTION", required=True)
    integration = actions.add_parser(
        "integration", parents=[common], help="add or test a GitHub integration"
    )
    verbs = integration.add_subparsers(title="integration", metavar="ACTION", required=True)
    add = verbs.add_parser(
        "add",
        parents=[common],
        help="add a GitHub integration (token read from stdin)",
        description="Add a GitHub integration. Repositories: --repo (explicit), --org with "
        "--pattern (name globs), and those named by Jira dev-status links.",
    )
    add_arguments(add)
    add.set_defaults(handler=run_add)
    test = verbs.add_parser("test", parents=[common], help="test a GitHub integration's token")
    test.add_argument("name")
    test.set_defaults(handler=run_test)
    sync = actions.add_parser("sync", parents=[common], help="run github_sync now")
    sync.add_argument("name")
    sync.set_defaults(handler=run_sync)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--name", required=True, help="integration name (unique per client)")
    parser.add_argument(
        "--token-stdin",
        action="store_true",
        required=True,
        help="read the token(s) from stdin; several tokens (one per line) are used in turn",
    )
    parser.add_argument("--base-url", default=DEFAULT_BASE_URL, help="API base URL")
    parser.add_argument(
        "--enterprise", action="store_true", help="GitHub Enterprise Server (/api/graphql)"
    )
    parser.add_argument("--org", action="append", default=[], help="organisation (repeatable)")
    parser.add_argument("--repo", action="append", default=[], help="owner/name (repeatable)")
    parser.add_argument(
        "--pattern", action="append", default=[], help="repository name glob within --org"
    )
    parser.add_argument("--search", help="GitHub repository search query")
    parser.add_argument(
        "--project-key", action="append", default=[], help="Jira project key to link"
    )
    parser.add_argument(
        "--deployments",
        choices=["auto", "graphql", "actions", "off"],
        default="auto",
        help="where deployments come from (auto: GraphQL, else workflow runs)",
    )


def run_add(args: argparse.Namespace, settings: Settings) -> int:

    from storage.db import open_database
    from storage.secrets import open_secret_store
    from storage.tenancy import ensure_client

    token = sys.stdin.read().strip()
    if not token:
        print("pulse-console: error: no token on stdin", file=sys.stderr)
        return 2
    config: dict[str, Any] = {
        "orgs": args.org,
        "repos": args.repo,
        "patterns": args.pattern,
        "search": args.search,
        "project_keys": args.project_key,
        "deployments": args.deployments,
        "enterprise": args.enterprise,
    }
    database = open_database(settings.database_url, settings.data_dir)
    try:
        store = open_secret_store(database.engine, settings.data_dir)
        ref = _secret_name(settings.client, args.name)
        store.set(ref, "\n".join(t.strip() for t in token.splitlines() if t.strip()))
        with database.session() as session:
            client_id = ensure_client(session, settings.client)
            save_integration(
                session,
                client_id=client_id,
                client=settings.client,
                name=args.name,
                type="github",
                base_url=args.base_url,
                config=config,
            )
        print(f"GitHub integration {args.name!r} saved for client {settings.client!r}.")
        return 0
    finally:
        database.dispose()


def _load(
    settings: Settings, name: str
) -> tuple[Any, int, IntegrationRef, Callable[[str], str | None]]:
    from pulse_console.pipelines.context import find_integration
    from storage.db import open_database
    from storage.secrets import open_secret_store

    database = open_database(settings.database_url, settings.data_dir)
    try:
        client_id, integration = find_integration(database, settings.client, name)
    except LookupError:
        database.dispose()
        raise
    if integration.type != "github":
        database.dispose()
        raise LookupError(f"{name!r} of client {settings.client!r} is not a GitHub integration")
    store = open_secret_store(database.engine, settings.data_dir)
    ref = _secret_name(settings.client, name)

    def secret(key: str) -> str | None:
        return store.get(ref) if key == ref else None

    return database, client_id, integration, secret


def run_test(args: argparse.Namespace, settings: Settings) -> int:
    from pulse_console.pipelines.github_sync import GitHubSync, GitHubSyncConfig

    try:
        database, _, integration, secret = _load(settings, args.name)
    except LookupError as exc:
        print(f"pulse-console: error: {exc}", file=sys.stderr)
        return 2
    try:
        ctx = _context(database, settings.client, 0, integration, secret)
        cfg = GitHubSyncConfig.from_dict(integration.config)
        with GitHubSync().client_for(ctx, cfg) as client:
            check = client.test_connection()
        print(check.message)
        return 0 if check.ok else 1
    finally:
        database.dispose()


def run_sync(args: argparse.Namespace, settings: Settings) -> int:
    from connectors.errors import ConnectorError, RateLimited
    from pulse_console.pipelines.github_sync import GitHubSync

    try:
        database, client_id, integration, secret = _load(settings, args.name)
    except LookupError as exc:
        print(f"pulse-console: error: {exc}", file=sys.stderr)
        return 2
    started = datetime.now(UTC)
    try:
        ctx = _context(database, settings.client, client_id, integration, secret)
        try:
            result = GitHubSync().run(ctx)
        except RateLimited as exc:
            when = exc.reset_at.isoformat(timespec="seconds") if exc.reset_at else "later"
            print(f"\nRate limited: {exc.message} Resume after {when}.", file=sys.stderr)
            return 3
        except ConnectorError as exc:
            print(f"\n{exc.title}: {exc.message}", file=sys.stderr)
            return 1
        took = (datetime.now(UTC) - started).total_seconds()
        s = result.stats
        print(
            f"\ngithub_sync {integration.name}: {s['repositories']} repositories, "
            f"{s['pull_requests']} pull requests, {s['commits']} commits, {s['reviews']} "
            f"reviews, {s['comments']} comments, {s['deployments']} deployments, "
            f"{s['links']} links, {s['quarantined']} quarantined; {result.api_calls} requests, "
            f"{s['points_used']} GraphQL points ({s['points_remaining']} left), {took:.1f} s"
        )
        return 0
    finally:
        database.dispose()


def _context(
    database: Any,
    client: str,
    client_id: int,
    integration: IntegrationRef,
    secret: Callable[[str], str | None],
) -> Any:
    import logging

    from connectors.http import CancelToken
    from pulse_console.pipelines.base import RunContext

    def report(p: Progress) -> None:
        total = f"/{p.total}" if p.total is not None else ""
        extra = f" — {p.message}" if p.message else ""
        print(f"\r{p.phase}: {p.done}{total}{extra}".ljust(100)[:160], end="", file=sys.stderr)

    return RunContext(
        client_id=client_id,
        client=client,
        integration=integration,
        database=database,
        run_id=0,
        cancel=CancelToken(),
        report=report,
        log=logging.getLogger("pulse_console.github"),
        secret=secret,
        clock=lambda: datetime.now(UTC),
    )
