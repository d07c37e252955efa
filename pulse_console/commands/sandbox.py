"""`pulse-console sandbox serve`: the local API simulators on a socket (no accounts needed)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from connectors.sandbox.serve_options import add_arguments

if TYPE_CHECKING:
    from pulse_console.config import Settings


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    sandbox = sub.add_parser(
        "sandbox", parents=[common], help="local simulators of Jira and GitHub"
    )
    actions = sandbox.add_subparsers(title="sandbox commands", metavar="ACTION", required=True)
    run = actions.add_parser(
        "serve",
        parents=[common],
        help="serve a generated organisation until interrupted",
        description="Serve the Jira (and GitHub) simulators on 127.0.0.1; prints base URLs "
        "and demo credentials.",
    )
    add_arguments(run)
    run.set_defaults(handler=_serve)


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from connectors.sandbox import serve

    return serve.run(args)
