"""Child process for the SIGKILL trials: sync the tiny org, killing itself after N requests.

``python -m tests.pipelines.crash_child URL SCHEMA SEED KILL_AFTER`` (KILL_AFTER 0: never).
``… 0 served``: sync over HTTP from the integration's base URL (a sandbox the parent serves
and kills this process from), so the windows run in window processes.
"""

from __future__ import annotations

import os
import signal
import sys

import httpx
from sqlalchemy import select

from connectors.http import RateLimitPolicy
from connectors.sandbox.credentials import DEMO_JIRA
from connectors.sandbox.org import Org
from pulse_console.pipelines.jira.sync import JiraSync
from storage.db import Database, make_engine
from storage.models import Integration
from tests.pipelines.harness import FAST_RETRY, INTEGRATION, MemorySecrets, Sandbox, context

PAGE_SIZE = 10


def main(argv: list[str]) -> int:
    url, schema, seed, kill_after = argv[0], argv[1], int(argv[2]), int(argv[3])
    database = Database(engine=make_engine(url, schema=schema, pool_size=1), embedded=False)
    secrets = MemorySecrets()
    with database.engine.connect() as conn:
        ref = conn.execute(
            select(Integration.secret_ref).where(Integration.name == INTEGRATION)
        ).scalar_one()
    secrets.set(ref, DEMO_JIRA.api_token)
    if argv[4:] == ["served"]:
        options = {"retry": FAST_RETRY, "rate_limit": RateLimitPolicy(max_wait_seconds=120)}
        result = JiraSync(http_options=options).run(context(database, secrets))
        print(result.stats["mode"], result.api_calls, flush=True)
        return 0
    sandbox = Sandbox(Org(seed, "tiny"))

    def maybe_die(request: httpx.Request) -> None:
        if kill_after and len(sandbox.requests) >= kill_after:
            os.kill(os.getpid(), signal.SIGKILL)

    sandbox.before_request = maybe_die
    result = sandbox.pipeline().run(context(database, secrets))
    print(result.stats["mode"], result.api_calls, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
