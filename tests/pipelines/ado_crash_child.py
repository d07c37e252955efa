"""Child process of the SIGKILL trials: runs azure_devops_sync and kills itself with SIGKILL
when the simulator receives request number ``kill_at`` (mid-batch, mid-transaction or
between)."""

from __future__ import annotations

import os
import signal
import sys
import threading

import httpx

from connectors.sandbox.azure_devops import AdoOrg
from pulse_console.pipelines.base import IntegrationRef
from storage.db import make_engine
from tests.pipelines.ado_support import ADO_INTEGRATION, BASE_URL, make_ctx, pipeline, simulator

# Small pages so a run has many commits to be killed between; both projects' and both
# repositories' chains at once, so a kill lands with several windows part-way.
CONFIG = {"revisions_page_size": 40, "pull_request_page_size": 4, "windows": 2}


def main() -> None:
    url, schema, kill_at = sys.argv[1], sys.argv[2], int(sys.argv[3])
    org = AdoOrg(7, "tiny", work_items=90, pull_requests=16)
    sim = simulator(org, wiql_limit=40)
    seen = 0
    lock = threading.Lock()  # the windows' threads count requests at once

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal seen
        with lock:
            seen += 1
            if seen == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)
        return sim.handle(request)

    engine = make_engine(url, schema=schema)
    integration = IntegrationRef(ADO_INTEGRATION, "ado", "azure_devops", BASE_URL, CONFIG)
    pipeline(handler).run(make_ctx(engine, integration))
    print(f"requests={seen}")


if __name__ == "__main__":
    main()
