"""Child process for the Aha! SIGKILL trials: sync a small account, killing itself after N
requests. ``python -m tests.pipelines.aha_crash_child URL SCHEMA SEED KILL_AFTER``."""

from __future__ import annotations

import os
import signal
import sys

import httpx

from connectors.sandbox.aha import DEMO_AHA_KEY
from pulse_console.pipelines.context import find_integration
from storage.db import Database, make_engine
from storage.integrations import secret_name as integration_secret_name
from tests.pipelines.aha_support import AhaSandbox, crash_account, sync
from tests.pipelines.harness import CLIENT, INTEGRATION, MemorySecrets


def main(argv: list[str]) -> int:
    url, schema, seed, kill_after = argv[0], argv[1], int(argv[2]), int(argv[3])
    database = Database(engine=make_engine(url, schema=schema, pool_size=1), embedded=False)
    client_id, ref = find_integration(database, CLIENT, INTEGRATION)
    secrets = MemorySecrets()
    secrets.set(integration_secret_name(client_id, ref.id), DEMO_AHA_KEY)
    sandbox = AhaSandbox(crash_account(seed))

    def maybe_die(request: httpx.Request) -> None:
        if kill_after and len(sandbox.requests) >= kill_after:
            os.kill(os.getpid(), signal.SIGKILL)

    sandbox.before_request = maybe_die
    result = sync(sandbox, database, secrets)
    print(result.stats["mode"], result.api_calls, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
