"""Serve simulators on a real socket: one port, each simulator under its own path prefix.

``SandboxServer({"jira": jira.handle, "github": github.handle})`` listens on
``http://127.0.0.1:PORT`` and exposes ``base_urls == {"jira": "http://127.0.0.1:PORT/jira",
"github": "http://127.0.0.1:PORT/github"}``. Requests reach the handler with the prefix
stripped and ``X-Forwarded-Prefix`` set, exactly as through an in-process transport. The
faults a handler raises become real network faults here: ``InjectedTimeout`` holds the
connection open without answering, ``InjectedReset`` closes it with a TCP RST.
"""

from __future__ import annotations

import socket
import struct
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

import httpx

from connectors.sandbox.faults import InjectedReset, InjectedTimeout
from connectors.sandbox.http_app import FORWARDED_PREFIX, Handler

_HOP_BY_HOP = {
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "content-encoding",
}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # The listen backlog: a client opening its connections at once (a sync's 32 requests in
    # flight) overflowed the default 5, and the kernel reset the connections it refused.
    request_queue_size = 1024
    mounts: dict[str, Handler]
    stopping: threading.Event


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: clients reuse connections as with real APIs
    # Headers and body go out in separate writes; without TCP_NODELAY, Nagle plus the
    # client's delayed ACK adds ~40 ms to every response.
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        pass  # quiet: the demo prints its own lines

    def _dispatch(self) -> None:
        path, _, query = self.path.partition("?")
        prefix, handler = self._mount(path)
        if handler is None:
            self._send(httpx.Response(404, content=b'{"message":"Not Found"}'))
            return
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = [(k, v) for k, v in self.headers.items() if k.lower() != FORWARDED_PREFIX]
        headers.append((FORWARDED_PREFIX, prefix))
        bound_host, bound_port = self.server.server_address[:2]
        host = self.headers.get("host") or f"{bound_host!s}:{bound_port}"
        url = f"http://{host}{path[len(prefix) :] or '/'}" + (f"?{query}" if query else "")
        request = httpx.Request(self.command, url, headers=headers, content=body)
        try:
            response = handler(request)
        except InjectedTimeout as fault:
            self.server.stopping.wait(fault.hang_seconds)
            self.close_connection = True
            return
        except InjectedReset:
            # SO_LINGER with a zero timeout makes close() send RST instead of FIN.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            return
        self._send(response)

    def _mount(self, path: str) -> tuple[str, Handler | None]:
        for prefix, handler in sorted(self.server.mounts.items(), key=lambda kv: -len(kv[0])):
            if path == prefix or path.startswith(prefix + "/"):
                return prefix, handler
        return "", None

    def _send(self, response: httpx.Response) -> None:
        content = response.content
        self.send_response(response.status_code)
        for key, value in response.headers.multi_items():
            if key.lower() not in _HOP_BY_HOP:
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(content)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _dispatch


class SandboxServer:
    """Simulators on one socket, served from a background thread."""

    def __init__(self, mounts: dict[str, Handler], host: str = "127.0.0.1", port: int = 0) -> None:
        self._names = list(mounts)
        self._server = _Server((host, port), _RequestHandler)
        self._server.mounts = {f"/{name.strip('/')}": h for name, h in mounts.items()}
        self._server.stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    @property
    def base_urls(self) -> dict[str, str]:
        host, port = self.address
        return {name: f"http://{host}:{port}/{name.strip('/')}" for name in self._names}

    def start(self) -> SandboxServer:
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="sandbox-server", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.stopping.set()  # releases connections held by injected timeouts
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def serve_forever(self) -> None:
        """Serve in the calling thread (the ``serve`` command) until ``stop`` is called."""
        self._server.serve_forever()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
