"""The API over real HTTP: uvicorn on a free port in a thread, httpx clients with tokens of
each role, and (for controls) an embedded orchestrator driving the client on its own loop."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from pulse_console.api.app import build_app
from pulse_console.api.server import ApiServer
from pulse_console.config import Settings
from pulse_console.engine.pool import live_workers
from pulse_console.engine.service import connect
from pulse_console.pipelines.registry import PipelineRegistry
from pulse_console.services import api_tokens
from pulse_console.services.service_face import ServiceFace
from storage.db import Database
from storage.tenancy import ensure_client
from tests.pipelines.harness import MemorySecrets

CLIENT = "acme"
OTHER = "globex"


@dataclass
class Api:
    url: str
    face: ServiceFace
    log_dir: Path
    secrets: MemorySecrets
    tokens: dict[str, str] = field(default_factory=dict)  # role (or "other") → token

    def http(self, role: str | None = None, token: str | None = None) -> httpx.Client:
        headers = {}
        if role is not None or token is not None:
            headers["Authorization"] = f"Bearer {token or self.tokens[role or '']}"
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)

    def path(self, rest: str, client: str = CLIENT) -> str:
        return f"/api/v1/clients/{client}{rest}"


def serve(face: ServiceFace, **limits: float) -> ApiServer:
    return ApiServer(build_app(face, **limits), "127.0.0.1", 0).start()  # type: ignore[arg-type]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(client=CLIENT, data_dir=tmp_path / "data")


@pytest.fixture
def api(database: Database, settings: Settings, tmp_path: Path) -> Iterator[Api]:
    with database.session() as session:
        ensure_client(session, CLIENT)
        ensure_client(session, OTHER)
    secrets = MemorySecrets()
    log_dir = tmp_path / "logs"
    log_dir.mkdir()
    face = ServiceFace(database, settings, secrets=secrets, log_dir=log_dir)  # type: ignore[arg-type]
    server = serve(face, rate=1000, burst=1000)
    found = Api(server.url, face, log_dir, secrets)
    for role in ("viewer", "user", "admin"):
        found.tokens[role], _ = api_tokens.create(database, CLIENT, role, name=role, actor="t")
    found.tokens["other"], _ = api_tokens.create(database, OTHER, "admin", actor="t")
    try:
        yield found
    finally:
        server.stop()


class Driver:
    """A console's pool worker serving the client, on a loop of its own thread (as a console
    or a worker would): runs started through the API execute here."""

    def __init__(
        self,
        database: Database,
        settings: Settings,
        registry: PipelineRegistry,
        secret: Callable[[str], str | None] | None = None,
    ) -> None:
        ensure_client_id(database)
        self.service = connect(
            database, settings, registry, client=CLIENT, actor="test-driver", background=True
        )
        self.orchestrator = self.service.orchestrator
        self.service._secret = secret
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=asyncio.run, args=(self._main(),), daemon=True)
        self._thread.start()
        assert self._ready.wait(10)
        deadline = time.monotonic() + 10
        while not live_workers(database, CLIENT, settings.pool.stall_seconds):
            assert time.monotonic() < deadline, "the driver's pool worker did not start"
            time.sleep(0.05)

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        self._ready.set()
        await self.service.serve(self._stop)

    def close(self) -> None:
        assert self._loop is not None and self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(15)
        self.service.close()


def ensure_client_id(database: Database) -> int:
    with database.session() as session:
        return ensure_client(session, CLIENT)
