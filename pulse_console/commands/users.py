"""`pulse-console user add|list|set-role|grant|revoke|remove`: operators on a shared database.

An operator is a PostgreSQL login (`services.operators`). Admin only: the command is
refused with one line and exit 2 before it does anything when the login is not an admin,
and PostgreSQL refuses anyway what the login may not do. `user add --password-stdin` reads
the password from stdin (one line); without it the login has no password (peer or
certificate authentication, as the server's pg_hba.conf says).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from pulse_console.commands import database as opener
from pulse_console.commands.output import error
from pulse_console.services.roles import Action, Role

if TYPE_CHECKING:
    from pulse_console.config import Settings

EXIT_OK, EXIT_FAILED, EXIT_REFUSED = 0, 1, 2
ROLES = [role.value for role in Role]


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    user = sub.add_parser(
        "user", parents=[common], help="operators (PostgreSQL logins), admin only"
    )
    actions = user.add_subparsers(title="user commands", metavar="ACTION", required=True)
    # Here `--client` names the clients a login may see (repeatable), not the one to work on.
    no_client = _without_client(common)
    add = actions.add_parser("add", parents=[no_client], help="create a login with a role")
    add.add_argument("name", help="login name")
    add.add_argument("--role", choices=ROLES, required=True)
    add.add_argument(
        "--client",
        dest="clients",
        action="append",
        default=[],
        metavar="C",
        help="a client the login may see (repeat for more)",
    )
    add.add_argument("--all-clients", action="store_true", help="the login sees every client")
    add.add_argument(
        "--password-stdin", action="store_true", help="read the login's password from stdin"
    )
    add.set_defaults(handler=run_add)
    listing = actions.add_parser("list", parents=[common], help="logins, roles and clients")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(handler=run_list)
    set_role = actions.add_parser("set-role", parents=[common], help="change a login's role")
    set_role.add_argument("name")
    set_role.add_argument("role", choices=ROLES)
    set_role.set_defaults(handler=run_set_role)
    for verb, handler, text in (
        ("grant", run_grant, "let a login see a client"),
        ("revoke", run_revoke, "stop a login seeing a client"),
    ):
        parser = actions.add_parser(verb, parents=[no_client], help=text)
        parser.add_argument("name")
        parser.add_argument("--client", dest="clients", action="append", required=True, metavar="C")
        parser.set_defaults(handler=handler)
    remove = actions.add_parser("remove", parents=[common], help="drop a login")
    remove.add_argument("name")
    remove.add_argument("--yes", action="store_true", help="confirm: the login is dropped")
    remove.set_defaults(handler=run_remove)


def _without_client(common: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The global options but `--client` (shared action objects, none changed)."""
    parent = argparse.ArgumentParser(add_help=False)
    for action in common._actions:
        if "--client" not in action.option_strings:
            parent._add_action(action)
    return parent


def _run(settings: Settings, call: Any) -> int:
    from pulse_console.services.operators import LoginError
    from storage.tenancy import UnknownClient

    database = opener.open_for(settings, Action.MANAGE_USERS)
    try:
        return int(call(database) or EXIT_OK)
    except (LoginError, UnknownClient) as exc:
        error(str(exc))
        return EXIT_REFUSED
    finally:
        database.dispose()


def run_add(args: argparse.Namespace, settings: Settings) -> int:
    from pulse_console.services import operators

    password = None
    if args.password_stdin:
        lines = sys.stdin.read().splitlines()
        if len(lines) != 1 or not lines[0]:
            error("one password line on stdin, please")
            return EXIT_REFUSED
        password = lines[0]

    def call(database: Any) -> None:
        operators.add(
            database,
            args.name,
            args.role,
            password=password,
            clients=args.clients,
            all_clients=args.all_clients,
        )
        where = "every client" if args.all_clients else ", ".join(args.clients) or "no client yet"
        print(f"Added {args.name} as {args.role} ({where}).")

    return _run(settings, call)


def run_list(args: argparse.Namespace, settings: Settings) -> int:
    from pulse_console.services import operators

    def call(database: Any) -> None:
        logins = operators.list_all(database)
        if args.json:
            rows = [
                {
                    "name": login.name,
                    "role": login.role,
                    "all_clients": login.all_clients,
                    "clients": list(login.clients),
                    "can_login": login.can_login,
                }
                for login in logins
            ]
            print(json.dumps(rows, indent=2))
            return
        for login in logins:
            clients = "every client" if login.all_clients else ", ".join(login.clients) or "-"
            print(f"{login.name:<24} {login.role or '-':<8} {clients}")

    return _run(settings, call)


def run_set_role(args: argparse.Namespace, settings: Settings) -> int:
    from pulse_console.services import operators

    def call(database: Any) -> None:
        operators.set_role(database, args.name, args.role)
        print(f"{args.name} is now {args.role}.")

    return _run(settings, call)


def run_grant(args: argparse.Namespace, settings: Settings) -> int:
    return _membership(args, settings, grant=True)


def run_revoke(args: argparse.Namespace, settings: Settings) -> int:
    return _membership(args, settings, grant=False)


def _membership(args: argparse.Namespace, settings: Settings, *, grant: bool) -> int:
    from pulse_console.services import operators

    def call(database: Any) -> None:
        change = operators.grant if grant else operators.revoke
        change(database, args.name, args.clients)
        done = "may now see" if grant else "no longer sees"
        print(f"{args.name} {done} {', '.join(args.clients)}.")

    return _run(settings, call)


def run_remove(args: argparse.Namespace, settings: Settings) -> int:
    from pulse_console.services import operators

    if not args.yes:
        error(f"refused: removing login {args.name} needs --yes")
        return EXIT_REFUSED

    def call(database: Any) -> None:
        operators.remove(database, args.name)
        print(f"Removed login {args.name}.")

    return _run(settings, call)
