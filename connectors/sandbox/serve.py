"""``sandbox serve``: run the simulators on a socket until SIGINT/SIGTERM.

The main CLI wires ``add_arguments``/``run`` into ``pulse-console sandbox serve``;
``python -m connectors.sandbox`` runs the same thing.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType

from connectors.sandbox.aha import DEMO_AHA_KEY, AhaOrg, AhaSimulator
from connectors.sandbox.credentials import DEMO_GITHUB_TOKEN, DEMO_JIRA
from connectors.sandbox.faults import FaultInjector, FaultScenario
from connectors.sandbox.github import GitHubSimulator
from connectors.sandbox.jira import JiraSimulator
from connectors.sandbox.org import Org
from connectors.sandbox.server import SandboxServer
from connectors.sandbox.sizes import Size


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seed", type=int, default=7, help="organisation seed (default 7)")
    parser.add_argument("--size", choices=[s.value for s in Size], default=Size.SMALL.value)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--scenario", help="fault scenario file (.toml or .json)")


def build(args: argparse.Namespace) -> tuple[SandboxServer, Org, FaultInjector]:
    org = Org(args.seed, args.size)
    org.warm_up()
    scenario = FaultScenario.load(args.scenario) if args.scenario else FaultScenario()
    injector = FaultInjector(scenario, mutate=org.apply)
    jira = JiraSimulator(org, DEMO_JIRA, injector)
    github = GitHubSimulator(org, injector)
    # Aha! gets its own injector: its 20/s and 300/min limits count only Aha! requests.
    aha = AhaSimulator(AhaOrg(org), faults=FaultInjector(scenario))
    server = SandboxServer(
        {"jira": jira.handle, "github": github.handle, "aha": aha.handle},
        host=args.host,
        port=args.port,
    )
    return server, org, injector


def run(args: argparse.Namespace) -> int:
    server, org, _ = build(args)
    urls = server.base_urls
    print(f"Pulse sandbox: seed {org.seed}, size {org.size.value}", flush=True)
    print(f"  {org.issue_count} issues, {org.pull_request_count} pull requests")
    print(f"  Jira   {urls['jira']}   email {DEMO_JIRA.email}   API token {DEMO_JIRA.api_token}")
    github = urls["github"]
    print(f"  GitHub {github}   token {DEMO_GITHUB_TOKEN}   (GraphQL {github}/graphql)")
    print(f"  Aha!   {urls['aha']}   API key {DEMO_AHA_KEY}   (API {urls['aha']}/api/v1)")
    print("Serving until interrupted (Ctrl-C).", flush=True)
    done = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        done.set()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    server.start()
    done.wait()
    server.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sandbox serve", description=__doc__)
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
