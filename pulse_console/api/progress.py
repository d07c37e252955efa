"""`WS /api/v1/clients/{client}/progress` (and `…/jobs/{job}/progress`): the engine's
events, live — the LISTEN/NOTIFY feed an attached console follows
(`PoolService.subscribe`), one text frame per event in its NOTIFY JSON
(`engine.events.encode`: `{"type": "JobProgress", "job": …}`).

`ProgressHub` keeps one feed per client for the whole process, however many sockets
follow it, and remembers each running job's latest `JobProgress` (the jobs list shows it).
It also keeps the client's engine status for the jobs list: read again when an event that
changes jobs arrived since (a status change, a control answered, a heartbeat — not progress
or log lines), or a control went through this API, and at least every
`STATUS_SECONDS`, by one request while the others wait for it — so two hundred pollers
cost the database a read or two a second, not two hundred.
A socket too slow to keep up loses events rather than slowing the others (a bounded queue
per socket). The handshake needs a viewer token of the client (`Authorization: Bearer`);
without one the socket is refused before it opens (HTTP 403).

Everything read for a token is read as the token's PostgreSQL role
(`ServiceFace.acting`), so row-level security, not only the Python check, keeps one
client's token from another client's jobs: the status is read as the token's role (tokens
of one client and one role have roles made alike — one group, one client — so they share
one read), and a socket opens only when the token's role may see the client's rows
(`ServiceFace.require_client`). PostgreSQL puts no right on LISTEN (any login may listen
on any channel), so the feed itself listens as the serving login, and each socket asks
PostgreSQL again, as its token's role, every `TokenCache.seconds`: a socket whose token
was revoked (its role dropped) or whose client was removed is closed (code 1008).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.concurrency import run_in_threadpool

from pulse_console.api import schemas
from pulse_console.api.authz import authenticate, check
from pulse_console.api.problems import Problem
from pulse_console.engine import events
from pulse_console.engine.service import EngineStatus
from pulse_console.services.api_tokens import Caller, TokenRefused
from pulse_console.services.connectivity import ActingRoleGone
from pulse_console.services.roles import Action
from pulse_console.services.service_face import ServiceFace

router = APIRouter(tags=["progress"])
QUEUE_SIZE = 1000
STATUS_SECONDS = 1.0
_NO_CHANGE = (events.JobProgress, events.LogRecord)


@dataclass(eq=False)
class _Socket:
    job: str | None
    queue: asyncio.Queue[str] = field(default_factory=lambda: asyncio.Queue(QUEUE_SIZE))

    def offer(self, payload: str) -> None:
        with contextlib.suppress(asyncio.QueueFull):  # too slow: this socket misses it
            self.queue.put_nowait(payload)


class _Feed:
    """One client's event feed, fanned out to its sockets on the server's loop."""

    def __init__(self, face: ServiceFace, client: str, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.sockets: set[_Socket] = set()
        self.progress: dict[str, events.JobProgress] = {}
        self.generation = 0  # bumped by events that change jobs: a status older is stale
        self._lock = threading.Lock()
        self.service = face.engine(client, "api")
        self.listener = self.service.subscribe(self._deliver)
        self.listener.ready.wait(10)

    def _deliver(self, event: events.Event) -> None:  # on the listener's thread
        job = getattr(event, "job", None)
        with self._lock:
            if not isinstance(event, _NO_CHANGE):  # progress and log lines leave jobs be
                self.generation += 1
            if isinstance(event, events.JobProgress):
                self.progress[event.job] = event
            elif isinstance(event, events.JobStatusChanged) and event.status != "RUNNING":
                self.progress.pop(event.job, None)
            sockets = list(self.sockets)
        payload = events.encode(event)
        for socket in sockets:
            if socket.job is None or socket.job == job:
                self.loop.call_soon_threadsafe(socket.offer, payload)

    def changed(self) -> None:
        with self._lock:
            self.generation += 1

    def latest(self) -> dict[str, events.JobProgress]:
        with self._lock:
            return dict(self.progress)

    def close(self) -> None:
        self.service.close()


@dataclass(frozen=True)
class _Status:
    value: EngineStatus
    generation: int
    at: float


class ProgressHub:
    def __init__(self, face: ServiceFace) -> None:
        self.face = face
        self._feeds: dict[str, _Feed] = {}
        self._creating: dict[str, asyncio.Lock] = {}
        self._status: dict[tuple[str, str, str], _Status] = {}
        self._loading: dict[tuple[str, str, str], asyncio.Lock] = {}

    async def status(self, client: str, caller: Caller) -> EngineStatus:
        """The client's engine status as `caller`'s token role reads it (HiddenClient when
        PostgreSQL hides the client from that role), fresh as described above."""
        key = (client, caller.client, caller.role)  # who reads alike (the module's doc)

        def fresh() -> EngineStatus | None:
            found, feed = self._status.get(key), self._feeds.get(client)
            if found is None or feed is None or found.generation != feed.generation:
                return None
            return found.value if time.monotonic() - found.at < STATUS_SECONDS else None

        cached = fresh()
        if cached is not None:
            return cached
        async with self._loading.setdefault(key, asyncio.Lock()):
            cached = fresh()
            if cached is not None:
                return cached
            face = self.face.acting(caller)
            feed = await self.feed(client, face)
            generation, started = feed.generation, time.monotonic()
            value = await run_in_threadpool(face.status, client, "api")
            self._status[key] = _Status(value, generation, started)
            return value

    def changed(self, client: str) -> None:
        """Something changed that no event may have said yet (a control just answered)."""
        feed = self._feeds.get(client)
        if feed is not None:
            feed.changed()

    async def feed(self, client: str, acting: ServiceFace) -> _Feed:
        """The client's feed, started once `acting` (a token's face) may see the client."""
        found = self._feeds.get(client)
        if found is not None:
            return found
        async with self._creating.setdefault(client, asyncio.Lock()):  # one per client
            found = self._feeds.get(client)
            if found is None:
                await run_in_threadpool(acting.require_client, client)
                loop = asyncio.get_running_loop()
                found = await run_in_threadpool(_Feed, self.face, client, loop)
                self._feeds[client] = found
            return found

    def latest_progress(self, status: EngineStatus) -> dict[str, schemas.Progress]:
        """The latest progress of `status`'s running jobs (the jobs its reader may see)."""
        feed = self._feeds.get(status.client)
        latest = feed.latest() if feed is not None else {}
        running = {job.name for job in status.jobs if job.status == "RUNNING"}
        return {
            job: schemas.Progress(**{k: getattr(e, k) for k in schemas.Progress.model_fields})
            for job, e in latest.items()
            if job in running
        }

    async def attach(self, client: str, job: str | None, caller: Caller) -> tuple[_Feed, _Socket]:
        """A socket on the client's feed, once PostgreSQL lets `caller`'s role see the client
        (HiddenClient, or ActingRoleGone for a revoked token, otherwise)."""
        face = self.face.acting(caller)
        await run_in_threadpool(face.require_client, client)
        feed = await self.feed(client, face)
        socket = _Socket(job)
        with feed._lock:
            feed.sockets.add(socket)
        return feed, socket

    @staticmethod
    def detach(feed: _Feed, socket: _Socket) -> None:
        with feed._lock:
            feed.sockets.discard(socket)

    def close(self) -> None:
        for feed in self._feeds.values():
            feed.close()
        self._feeds.clear()


async def _serve(websocket: WebSocket, client: str, job: str | None) -> None:
    hub: ProgressHub = websocket.app.state.hub
    try:
        caller = await authenticate(websocket)
        check(caller, client, Action.READ)
        feed, socket = await hub.attach(client, job, caller)
    except (Problem, LookupError, TokenRefused, ActingRoleGone):
        await websocket.close(code=1008)  # before accept: the handshake is refused (403)
        return
    receiving: asyncio.Future[Any] | None = None
    every = websocket.app.state.tokens.seconds
    allowed = asyncio.ensure_future(_while_allowed(hub.face.acting(caller), client, every))
    try:
        await websocket.accept()
        receiving = asyncio.ensure_future(_drain(websocket))
        while True:
            getting = asyncio.ensure_future(socket.queue.get())
            await asyncio.wait({getting, receiving, allowed}, return_when=asyncio.FIRST_COMPLETED)
            if not getting.done():
                getting.cancel()
                if allowed.done():  # revoked, or the client removed: PostgreSQL said no
                    await websocket.close(code=1008)
                break  # (or the client went away)
            await websocket.send_text(getting.result())
    except (WebSocketDisconnect, RuntimeError):
        pass  # closed while sending
    finally:
        if receiving is not None:
            receiving.cancel()
        allowed.cancel()
        hub.detach(feed, socket)


async def _while_allowed(face: ServiceFace, client: str, every: float) -> None:
    """Return once PostgreSQL no longer lets the token's role (`face`) see the client; a
    database that does not answer for a moment closes nobody's socket. Each turn waits a
    random part of `every` (at least half), so sockets opened together do not all ask at
    once."""
    while True:
        await asyncio.sleep(every * random.uniform(0.5, 1.0))
        try:
            await run_in_threadpool(face.require_client, client)
        except (LookupError, ActingRoleGone):
            return
        except Exception:  # asked again at the next turn
            continue


async def _drain(websocket: WebSocket) -> Any:
    """Read (and ignore) what the client sends, so its close is noticed."""
    with contextlib.suppress(WebSocketDisconnect):
        while True:
            await websocket.receive_text()


@router.websocket("/api/v1/clients/{client}/progress")
async def client_progress(websocket: WebSocket, client: str) -> None:
    """Every engine event of the client."""
    await _serve(websocket, client, None)


@router.websocket("/api/v1/clients/{client}/jobs/{job}/progress")
async def job_progress(websocket: WebSocket, client: str, job: str) -> None:
    """The engine events of one job."""
    await _serve(websocket, client, job)
