"""`pulse-console serve` (the HTTP + WebSocket API) and `pulse-console token …` (its tokens).

`serve` answers for every client of the database; what a caller may see and do is its
token's (one client, one role). Job and orchestrator controls go to the process that drives
the client (a `worker`, or a console), as the CLI's attached controls do; run
`worker --serve` to drive a client and serve the API from one process. `--web` (either
command) also serves the console in a browser behind the same tokens. Both commands start
and stop what they serve through `start_serving`. SIGTERM/SIGINT stop the server after the
requests in flight. Exit codes: 0 stopped, 1 failed, 2 refused.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pulse_console.commands import database as opener
from pulse_console.services.roles import TOKEN_ROLES, Action

if TYPE_CHECKING:
    from pulse_console.api.server import ApiServer
    from pulse_console.api.web_console import WebConsole
    from pulse_console.config import Settings
    from storage.db import Database

EXIT_OK, EXIT_FAILED, EXIT_REFUSED = 0, 1, 2


def add_server_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8787, help="port (default 8787; 0: any)")
    parser.add_argument(
        "--rate", type=float, default=20.0, help="requests a second per token (default 20)"
    )
    parser.add_argument(
        "--burst", type=int, default=40, help="requests a token may make at once (default 40)"
    )


def add_web_options(parser: argparse.ArgumentParser, *, implies: str = "") -> None:
    parser.add_argument(
        "--web",
        action="store_true",
        help="also serve the console in a browser (textual-serve), behind the API tokens" + implies,
    )
    parser.add_argument(
        "--web-port", type=int, default=8788, help="the web console's port (default 8788)"
    )


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    serve = sub.add_parser(
        "serve",
        parents=[common],
        help="serve the HTTP + WebSocket API and Prometheus metrics",
        description="The service face: JSON API under /api/v1, docs at /docs, live "
        "events over WebSockets, Prometheus metrics at /metrics, /health and /ready "
        "for load balancers. Callers send `Authorization: Bearer <token>`.",
    )
    add_server_options(serve)
    add_web_options(serve)
    serve.set_defaults(handler=run_serve)

    token = sub.add_parser(
        "token", parents=[common], help="API tokens: create (shown once), list, revoke"
    )
    actions = token.add_subparsers(title="token commands", metavar="ACTION", required=True)
    create = actions.add_parser(
        "create", parents=[common], help="a new token of --client with a role (shown once)"
    )
    create.add_argument("--role", choices=TOKEN_ROLES, required=True)
    create.add_argument("--name", help="a name for the audit log (default ROLE-N)")
    create.set_defaults(handler=run_token_create)
    listing = actions.add_parser("list", parents=[common], help="the client's tokens")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(handler=run_token_list)
    revoke = actions.add_parser("revoke", parents=[common], help="revoke a token at once")
    revoke.add_argument("name", help="the token's name (see `token list`)")
    revoke.set_defaults(handler=run_token_revoke)


def start_server(database: Database, settings: Settings, args: argparse.Namespace) -> ApiServer:
    """The API over `database`, listening (ServerFailed when it cannot)."""
    from pulse_console.api.app import build_app
    from pulse_console.api.server import ApiServer
    from pulse_console.services.service_face import ServiceFace

    face = ServiceFace(database, settings, secrets=opener.open_secrets(database, settings))
    app = build_app(face, rate=args.rate, burst=args.burst)
    return ApiServer(app, args.host, args.port).start()


def start_web_console(
    server: ApiServer, settings: Settings, args: argparse.Namespace
) -> WebConsole:
    """The console in a browser beside `server`, behind its tokens (OSError: no port)."""
    from pulse_console.api.web_console import WebConsole, console_environment

    environment = console_environment(
        settings.database_url, str(settings.data_dir), getattr(args, "config", None)
    )
    tokens = server.app.state.tokens
    return WebConsole(tokens, environment, args.host, args.web_port).start()


@dataclass
class Serving:
    """What one process serves: the API, and with `--web` the console in a browser."""

    api: ApiServer
    web: WebConsole | None = None

    @property
    def running(self) -> bool:
        return self.api.running

    def stop(self) -> None:
        if self.web is not None:
            self.web.stop()
        self.api.stop()


def start_serving(database: Database, settings: Settings, args: argparse.Namespace) -> Serving:
    """The API over `database` and, with `args.web`, the web console beside it, both
    listening (`ServerFailed` or OSError, in their one line, when one cannot)."""
    server = start_server(database, settings, args)
    if not getattr(args, "web", False):
        return Serving(server)
    try:
        return Serving(server, start_web_console(server, settings, args))
    except OSError:
        server.stop()
        raise


def run_serve(args: argparse.Namespace, settings: Settings) -> int:
    from pulse_console.api.server import ServerFailed
    from storage import migrate

    database = opener.open_for(settings, Action.READ)
    try:
        if not database.embedded:
            migrate.require_current(database.engine)
        try:
            serving = start_serving(database, settings, args)
        except (ServerFailed, OSError) as exc:
            print(f"pulse-console: error: {exc}", file=sys.stderr)
            return EXIT_FAILED
        url = serving.api.url
        print(f"serving {url} (API docs at {url}/docs); Ctrl-C stops", flush=True)
        if serving.web is not None:
            print(f"web console at {serving.web.url}/?token=<API token>", flush=True)
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        try:
            while not stop.wait(0.5):
                if not serving.running:
                    print("pulse-console: error: the API server stopped", file=sys.stderr)
                    return EXIT_FAILED
        finally:
            serving.stop()
        return EXIT_OK
    finally:
        database.dispose()


def _actor() -> str:
    from pulse_console.engine.service import default_actor

    return default_actor()


def run_token_create(args: argparse.Namespace, settings: Settings) -> int:
    from pulse_console.services import api_tokens

    database = opener.open_for(settings, Action.MANAGE_USERS)  # tokens are credentials
    try:
        try:
            token, info = api_tokens.create(
                database, settings.client, args.role, name=args.name, actor=_actor()
            )
        except api_tokens.TokenRefused as exc:
            print(f"pulse-console: refused: {exc}", file=sys.stderr)
            return EXIT_REFUSED
        print(
            f"token {info.name} ({info.role}) of client {info.client}; it is shown only "
            "now, keep it in a secret store:",
            file=sys.stderr,
        )
        print(token)
        return EXIT_OK
    finally:
        database.dispose()


def run_token_list(args: argparse.Namespace, settings: Settings) -> int:
    from pulse_console.services import api_tokens

    database = opener.open_for(settings, Action.MANAGE_USERS)  # tokens are credentials
    try:
        tokens = api_tokens.list_tokens(database, settings.client)
    finally:
        database.dispose()
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "name": t.name,
                        "role": t.role,
                        "created_by": t.created_by,
                        "created_at": t.created_at.isoformat(),
                        "last_used_at": t.last_used_at and t.last_used_at.isoformat(),
                        "revoked_at": t.revoked_at and t.revoked_at.isoformat(),
                    }
                    for t in tokens
                ],
                indent=2,
            )
        )
        return EXIT_OK
    if not tokens:
        print(f"client {settings.client} has no API tokens (`token create --role viewer`)")
    for t in tokens:
        used = f"{t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "never used"
        state = f"revoked {t.revoked_at:%Y-%m-%d %H:%M}" if t.revoked_at else "active"
        print(f"  {t.name:<20} {t.role:<7} {state:<24} {used}  by {t.created_by}")
    return EXIT_OK


def run_token_revoke(args: argparse.Namespace, settings: Settings) -> int:
    from pulse_console.services import api_tokens

    database = opener.open_for(settings, Action.MANAGE_USERS)  # tokens are credentials
    try:
        try:
            api_tokens.revoke(database, settings.client, args.name, actor=_actor())
        except api_tokens.TokenRefused as exc:
            print(f"pulse-console: refused: {exc}", file=sys.stderr)
            return EXIT_REFUSED
        print(f"token {args.name} of client {settings.client} is revoked")
        return EXIT_OK
    finally:
        database.dispose()
