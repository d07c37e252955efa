"""`WS /api/v1/clients/{client}/progress` (and `…/jobs/{job}/progress`): the engine's
events, live — the LISTEN/NOTIFY feed an attached console follows
(`PoolService.subscribe`), one text frame per event in its NOTIFY JSON
(`engine.events.encode`: `{"type": "JobProgress", "job": …}`).

`ProgressHub` keeps one feed per client for the whole process, however many sockets
follow it, and remembers each running job's latest `JobProgress` (the jobs list shows it).
It also keeps the client's engine status for the jobs list: read again when an event that
changes jobs arrived since (a status change, a control answered, a heartbeat — not progress
or log lines), or a control went through this API, and at least every
`STATUS_SECONDS`, by one read while the other polls of that moment are answered the list
as it was (`cached_jobs`; up to `STALE_SECONDS` old, else they wait for the read) — so two
hundred pollers cost the database a read or two a second, not two hundred, and none queues.
A socket too slow to keep up loses events rather than slowing the others (a bounded queue
per socket). The handshake needs a viewer token of the client (`Authorization: Bearer`);
without one the socket is refused before it opens (HTTP 403).

Everything read for a token is read as the token's PostgreSQL role
(`ServiceFace.acting`), so row-level security, not only the Python check, keeps one
client's token from another client's jobs: the status is read as the token's role (tokens
of one client and one role have roles made alike — one group, one client — so they share
one read), and a socket opens only when the token's role may see the client's rows
(`ServiceFace.require_client`). PostgreSQL puts no right on LISTEN (any login may listen
on any channel), so the feed itself listens as the serving login, and each socket checks
its token every `TokenCache.seconds` (a cache: no query unless the tokens table changed)
and asks PostgreSQL again, as its token's role, when the tokens table changed: a socket
whose token was revoked (its role dropped) or whose client was removed is closed (1008).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import TypeAdapter
from starlette.concurrency import run_in_threadpool

from pulse_console.api import schemas
from pulse_console.api.authz import TokenCache, authenticate, bearer, check
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
STALE_SECONDS = 5.0  # the oldest status a poll is answered from while it is read again
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
        self.progress_version = 0  # bumped whenever `progress` changes
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
                self.progress_version += 1
            elif (
                isinstance(event, events.JobStatusChanged)
                and event.status != "RUNNING"
                and self.progress.pop(event.job, None) is not None
            ):
                self.progress_version += 1
            sockets = list(self.sockets)
        payload = events.encode(event)
        chosen = [socket for socket in sockets if socket.job is None or socket.job == job]
        if chosen:  # one wake-up of the server's loop an event, not one a socket
            self.loop.call_soon_threadsafe(_offer, chosen, payload)

    def changed(self) -> None:
        with self._lock:
            self.generation += 1

    def latest(self) -> tuple[int, dict[str, events.JobProgress]]:
        """The running jobs' latest progress, and its `progress_version`."""
        with self._lock:
            return self.progress_version, dict(self.progress)

    def close(self) -> None:
        self.service.close()


def _settled(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()  # retrieved: the next poll past STALE_SECONDS meets it itself


def _offer(sockets: list[_Socket], payload: str) -> None:
    for socket in sockets:
        socket.offer(payload)


@dataclass(frozen=True)
class _Status:
    value: EngineStatus
    generation: int
    at: float


@dataclass(frozen=True)
class JobsBody:
    """The jobs list as sent: its JSON bytes and their ETag."""

    body: bytes
    etag: str
    status: EngineStatus  # what it was made of
    progress_version: int


_JOBS = TypeAdapter(list[schemas.Job])


class ProgressHub:
    def __init__(self, face: ServiceFace) -> None:
        self.face = face
        self._feeds: dict[str, _Feed] = {}
        self._creating: dict[str, asyncio.Lock] = {}
        self._status: dict[tuple[str, str, str], _Status] = {}
        self._loading: dict[tuple[str, str, str], asyncio.Lock] = {}
        self._bodies: dict[tuple[str, str, str], JobsBody] = {}
        self._refreshing: dict[tuple[str, str, str], asyncio.Future[EngineStatus]] = {}

    async def status(self, client: str, caller: Caller) -> EngineStatus:
        """The client's engine status as `caller`'s token role reads it (HiddenClient when
        PostgreSQL hides the client from that role), fresh as described above."""
        key = (client, caller.client, caller.role)  # who reads alike (the module's doc)
        cached = self._fresh(key)
        if cached is not None:
            return cached
        async with self._loading.setdefault(key, asyncio.Lock()):
            cached = self._fresh(key)
            if cached is not None:
                return cached
            face = self.face.acting(caller)
            feed = await self.feed(client, face)
            generation, started = feed.generation, time.monotonic()
            value = await run_in_threadpool(face.status, client, "api")
            self._status[key] = _Status(value, generation, started)
            return value

    def _fresh(self, key: tuple[str, str, str]) -> EngineStatus | None:
        found, feed = self._status.get(key), self._feeds.get(key[0])
        if found is None or feed is None or found.generation != feed.generation:
            return None
        return found.value if time.monotonic() - found.at < STATUS_SECONDS else None

    async def jobs(self, client: str, caller: Caller) -> JobsBody:
        """The jobs list of `client` as `caller`'s token role reads it (`status`), with the
        running jobs' latest progress, serialised once for every reader alike until the
        status is read again or a progress event arrives: two hundred pollers cost one
        serialisation a change, not one a request."""
        status = await self.status(client, caller)
        return self._body((client, caller.client, caller.role), status)

    def cached_jobs(self, client: str, caller: Caller) -> JobsBody | None:
        """What `jobs` answers, without a wait, when this process read the status for
        `caller`'s token role in the last `STALE_SECONDS` (else None: ask `jobs`). A status
        that is due to be read again (an event changed jobs, or `STATUS_SECONDS` passed)
        is read once in the background, and answered meanwhile: the pollers of that
        moment get the list as it was a moment ago instead of queueing behind the read."""
        key = (client, caller.client, caller.role)
        found, feed = self._status.get(key), self._feeds.get(client)
        if found is None or feed is None:
            return None
        age = time.monotonic() - found.at
        if age >= STALE_SECONDS:
            return None
        if found.generation != feed.generation or age >= STATUS_SECONDS:
            self._refresh(key, caller)
        return self._body(key, found.value)

    def _refresh(self, key: tuple[str, str, str], caller: Caller) -> None:
        task = self._refreshing.get(key)
        if task is None or task.done():
            task = asyncio.ensure_future(self.status(key[0], caller))
            task.add_done_callback(_settled)  # a failed read: the route reads it again
            self._refreshing[key] = task

    def _body(self, key: tuple[str, str, str], status: EngineStatus) -> JobsBody:
        """`status` with the latest progress, as JSON bytes (made again only when the
        status or the progress changed since)."""
        found, feed = self._bodies.get(key), self._feeds.get(key[0])
        version = feed.progress_version if feed is not None else -1
        if found is not None and found.status is status and found.progress_version == version:
            return found
        version, progress = self.latest_progress(status)
        body = _JOBS.dump_json(
            [
                schemas.Job(**view.as_json(), progress=progress.get(view.name))
                for view in status.jobs
            ]
        )
        etag = f'"{hashlib.blake2b(body, digest_size=12).hexdigest()}"'
        made = self._bodies[key] = JobsBody(body, etag, status, version)
        return made

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

    def latest_progress(self, status: EngineStatus) -> tuple[int, dict[str, schemas.Progress]]:
        """The latest progress of `status`'s running jobs (the jobs its reader may see),
        and the feed's `progress_version` it is of."""
        feed = self._feeds.get(status.client)
        version, latest = feed.latest() if feed is not None else (-1, {})
        running = {job.name for job in status.jobs if job.status == "RUNNING"}
        return version, {
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
    tokens: TokenCache = websocket.app.state.tokens
    token = bearer(websocket.headers.get("authorization")) or ""
    allowed = asyncio.ensure_future(_while_allowed(tokens, token, hub.face.acting(caller), client))
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


async def _while_allowed(tokens: TokenCache, token: str, face: ServiceFace, client: str) -> None:
    """Return once the token is revoked (`TokenCache`, asked every `tokens.seconds`) or
    PostgreSQL no longer lets the token's role (`face`) see the client. PostgreSQL is asked
    again when the tokens table changed (a token revoked, a client removed) and at least
    every `tokens.ttl` seconds, not at every turn: fifty sockets cost no query a second.
    A database that does not answer for a moment closes nobody's socket. Each turn waits a
    random part of `tokens.seconds` (at least half), so sockets opened together do not
    all ask at once."""
    generation, asked = tokens.generation, time.monotonic()
    while True:
        await asyncio.sleep(tokens.seconds * random.uniform(0.5, 1.0))
        try:
            if await tokens.current(token) is None:
                return
            if tokens.generation == generation and time.monotonic() - asked < tokens.ttl:
                continue
            generation, asked = tokens.generation, time.monotonic()
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
