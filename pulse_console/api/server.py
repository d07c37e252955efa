"""Uvicorn on a thread of its own: `pulse-console serve`, `worker --serve` and the tests.

`ApiServer(app, host, port).start()` returns once the socket listens (port 0 picks a free
one: `.port` says which); `.stop()` finishes the requests in flight and returns. On a
thread, uvicorn installs no signal handlers: the process that owns it (the `serve`
command, the worker) handles SIGTERM/SIGINT and calls `stop()`.
"""

from __future__ import annotations

import threading
import time

import uvicorn
from fastapi import FastAPI


class ServerFailed(RuntimeError):
    """The server could not start (e.g. its port is taken); `str()` says why."""


class ApiServer:
    def __init__(self, app: FastAPI, host: str = "127.0.0.1", port: int = 8787) -> None:
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            log_level="warning",
            access_log=False,
            lifespan="on",
            # Longer than the 60 s idle timeout of common load balancers and pollers' gaps:
            # a kept-alive connection is never closed just as a client reuses it.
            timeout_keep_alive=75,
            # Events are small JSON frames sent to every socket of a client: compressing
            # each one for each socket cost the server more CPU than all the pollers' auth
            # (py-spy under benchmarks/bench_api.py); localhost and LANs need no deflate.
            ws_per_message_deflate=False,
        )
        self.server = uvicorn.Server(config)
        self.app = app
        self.host = host
        self.port = port
        self._thread = threading.Thread(target=self.server.run, name="pulse-api", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 20.0) -> ApiServer:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise ServerFailed(
                    f"the API could not listen on {self.host}:{self.port} "
                    "(is the port taken? choose another with --port)"
                )
            time.sleep(0.02)
        sockets = [s for server in self.server.servers for s in server.sockets]
        if sockets:
            self.port = int(sockets[0].getsockname()[1])
        return self

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def stop(self, timeout: float = 10.0) -> None:
        self.server.should_exit = True
        self._thread.join(timeout)
