"""Child process of the SIGKILL trials: runs github_sync and kills itself with SIGKILL when
the simulator receives request number ``kill_at`` (mid-page, mid-transaction or between)."""

from __future__ import annotations

import os
import signal
import sys
import threading

import httpx

from connectors.sandbox.github import GitHubSimulator
from connectors.sandbox.org import Org
from storage.db import make_engine
from tests.pipelines.github_support import make_ctx, pipeline

CONFIG = {"orgs": ["northwind-eng"], "page_sizes": {"prs": 4, "deployments": 20, "commits": 3}}


def main() -> None:
    url, schema, kill_at = sys.argv[1], sys.argv[2], int(sys.argv[3])
    org = Org(7, "tiny")
    sim = GitHubSimulator(org, points_per_hour=1_000_000)
    seen = 0
    lock = threading.Lock()  # repositories are walked at once, in several threads

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal seen
        with lock:
            seen += 1
            if seen == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)
        return sim.handle(request)

    engine = make_engine(url, schema=schema)
    from pulse_console.pipelines.base import IntegrationRef

    integration = IntegrationRef(2, "github", "github", "https://api.github.com", CONFIG)
    pipeline(handler).run(make_ctx(engine, integration))
    print(f"requests={seen}")


if __name__ == "__main__":
    main()
