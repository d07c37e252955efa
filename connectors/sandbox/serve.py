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
from connectors.sandbox.azure_devops import AdoOrg, AzureDevOpsSimulator
from connectors.sandbox.credentials import DEMO_ADO_ORG, DEMO_ADO_PAT, DEMO_GITHUB_TOKEN, DEMO_JIRA
from connectors.sandbox.faults import FaultInjector, FaultScenario
from connectors.sandbox.github import GitHubSimulator
from connectors.sandbox.jira import JiraSimulator
from connectors.sandbox.org import Org
from connectors.sandbox.serve_options import add_arguments
from connectors.sandbox.server import SandboxServer
from connectors.sandbox.timefmt import current_anchor_ms


def build(
    args: argparse.Namespace, *, now_ms: int | None = None
) -> tuple[SandboxServer, Org, FaultInjector]:
    """The server and its org, whose history ends at ``now_ms`` (default: the seed's fixed
    instant, as tests want)."""
    org = Org(args.seed, args.size, now_ms=now_ms)
    org.warm_up()
    scenario = FaultScenario.load(args.scenario) if args.scenario else FaultScenario()
    injector = FaultInjector(scenario, mutate=org.apply)
    jira = JiraSimulator(org, DEMO_JIRA, injector)
    github = GitHubSimulator(org, injector)
    # Azure DevOps: its own generated organisation (same seed and size), its own faults.
    ado_org = AdoOrg(args.seed, args.size, name=DEMO_ADO_ORG)
    ado = AzureDevOpsSimulator(ado_org, DEMO_ADO_PAT, scenario)
    # Aha! gets its own injector: its 20/s and 300/min limits count only Aha! requests.
    aha = AhaSimulator(AhaOrg(org), faults=FaultInjector(scenario))
    server = SandboxServer(
        {
            "jira": jira.handle,
            "github": github.handle,
            "azure_devops": ado.handle,
            "aha": aha.handle,
        },
        host=args.host,
        port=args.port,
    )
    return server, org, injector


def run(args: argparse.Namespace) -> int:
    # Served for a person: the history ends now, unless a repeatable org was asked for.
    server, org, _ = build(args, now_ms=None if args.fixed_clock else current_anchor_ms())
    urls = server.base_urls
    print(f"Pulse sandbox: seed {org.seed}, size {org.size.value}", flush=True)
    print(f"  {org.issue_count} issues, {org.pull_request_count} pull requests")
    print(f"  Jira   {urls['jira']}   email {DEMO_JIRA.email}   API token {DEMO_JIRA.api_token}")
    github = urls["github"]
    print(f"  GitHub {github}   token {DEMO_GITHUB_TOKEN}   (GraphQL {github}/graphql)")
    print(f"  Azure DevOps {urls['azure_devops']}/{DEMO_ADO_ORG}   PAT {DEMO_ADO_PAT}")
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
