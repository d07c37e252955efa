"""`pulse-console client add|list|rename|remove`: managing the clients (tenants) of a database.

Thin: parse, call `services.clients`, print. `add`, `rename` and `remove` are admins'
(`Action.MANAGE_CLIENTS`), `list` anyone's (the clients the login may see). A refusal (the
client exists, a worker drives it, `remove` without `--yes`, the role) is one line on stderr
and exit 2. The database's audit trail records each change with the login that made it
(`pulse-console audit`).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from pulse_console.commands import database as opener

if TYPE_CHECKING:
    from pulse_console.config import Settings

EXIT_OK, EXIT_REFUSED = 0, 2


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    client = sub.add_parser("client", parents=[common], help="clients (tenants): add, list, …")
    actions = client.add_subparsers(title="client commands", metavar="ACTION")
    actions.required = True
    add = actions.add_parser("add", parents=[common], help="create a client")
    add.add_argument("name", help="the client's name (what --client takes)")
    add.add_argument("--display-name", help="a longer name for screens (default: the name)")
    add.set_defaults(handler=run_client_add)
    listing = actions.add_parser("list", parents=[common], help="list the clients")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(handler=run_client_list)
    rename = actions.add_parser("rename", parents=[common], help="rename a client")
    rename.add_argument("name")
    rename.add_argument("new_name")
    rename.set_defaults(handler=run_client_rename)
    remove = actions.add_parser(
        "remove", parents=[common], help="delete a client and all its data (asks for --yes)"
    )
    remove.add_argument("name")
    remove.add_argument(
        "--yes", action="store_true", help="confirm: every row of this client is deleted"
    )
    remove.set_defaults(handler=run_client_remove)


def _refused(message: str) -> int:
    print(f"pulse-console: refused: {message}", file=sys.stderr)
    return EXIT_REFUSED


def _change(settings: Settings, call: Any) -> int:
    from pulse_console.engine.service import default_actor
    from pulse_console.inputs import BadInput
    from pulse_console.services.clients import ClientRefused
    from pulse_console.services.roles import Action

    database = opener.open_for(settings, Action.MANAGE_CLIENTS)
    try:
        call(database, default_actor())
        return EXIT_OK
    except (ClientRefused, BadInput) as exc:
        return _refused(str(exc))
    finally:
        database.dispose()


def run_client_add(args: argparse.Namespace, settings: Settings) -> int:
    from pulse_console.services import clients

    def add(database: Any, actor: str) -> None:
        clients.add_client(database, args.name, args.display_name, actor=actor)
        print(f"client {args.name} added: use it with --client {args.name}")

    return _change(settings, add)


def run_client_list(args: argparse.Namespace, settings: Settings) -> int:
    from pulse_console.services import clients
    from pulse_console.services.roles import Action

    database = opener.open_for(settings, Action.READ)
    try:
        found = clients.list_clients(database)
    finally:
        database.dispose()
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "name": c.name,
                        "display_name": c.display_name,
                        "active": c.active,
                        "created_at": c.created_at.isoformat(),
                        "integrations": c.integrations,
                        "jobs": c.jobs,
                    }
                    for c in found
                ]
            )
        )
        return EXIT_OK
    if not found:
        print("no clients yet: add one with `pulse-console client add NAME`")
    for c in found:
        label = "" if c.display_name == c.name else f"  ({c.display_name})"
        print(f"{c.name}{label}  integrations: {c.integrations}  jobs: {c.jobs}")
    return EXIT_OK


def run_client_rename(args: argparse.Namespace, settings: Settings) -> int:
    from pulse_console.services import clients

    def rename(database: Any, actor: str) -> None:
        clients.rename_client(
            database, args.name, args.new_name, actor=actor, log_dir=settings.log_dir
        )
        print(f"client {args.name} is now {args.new_name}")

    return _change(settings, rename)


def run_client_remove(args: argparse.Namespace, settings: Settings) -> int:
    from pulse_console.services import clients

    if not args.yes:
        return _refused(
            f"`client remove` deletes every row of client {args.name!r}; run it again with --yes"
        )

    def remove(database: Any, actor: str) -> None:
        gone = clients.remove_client(database, args.name, actor=actor)
        print(
            f"client {gone.name} removed, with {gone.integrations} integration(s) and "
            f"{gone.work_items} work item(s)"
        )

    return _change(settings, remove)
