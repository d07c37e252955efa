"""The console in a browser (`serve --web`): textual-serve runs one `pulse-console tui`
per browser tab, behind the same API tokens.

A browser sends no `Authorization` header on a page load, so the page is opened once as
`/?token=<token>`: the token is checked (`TokenCache`, as the API does), kept in an
HttpOnly, SameSite=Strict cookie, and the browser is sent on to `/` so the token leaves the
address bar. The page and its WebSocket need that cookie (or a bearer header); the
WebSocket also needs an `Origin` of this very host, so another site's page cannot drive
the console with a visitor's cookie. Only the static assets (textual-serve's JavaScript,
CSS and fonts) are public.

Each tab's console runs as the token's PostgreSQL role (`tui --act-as`): its client, and
its role's keys and rights (a viewer token gives a viewer's console, which never drives
the engine), enforced by PostgreSQL as for the API. textual-serve (aiohttp) serves on a
port of its own, on its own event loop thread, like the API's uvicorn.
"""

from __future__ import annotations

import asyncio
import os
import shlex
import sys
import threading
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from textual_serve.app_service import AppService
from textual_serve.server import Server, to_int

from pulse_console.api.authz import TokenCache, bearer
from pulse_console.services.api_tokens import Caller

COOKIE = "pulse_console_token"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class ConsoleProcess(AppService):
    """One browser tab's console: textual-serve's process, with our environment added."""

    def __init__(self, command: str, environment: dict[str, str], **kwargs: Any) -> None:
        super().__init__(command, **kwargs)
        self.extra_environment = environment

    def _build_environment(self, width: int = 80, height: int = 24) -> dict[str, str]:
        return {**super()._build_environment(width, height), **self.extra_environment}


class WebConsole(Server):
    """textual-serve behind API tokens, running the console as each token's role."""

    def __init__(
        self,
        tokens: TokenCache,
        environment: dict[str, str],
        host: str = "127.0.0.1",
        port: int = 8788,
    ) -> None:
        super().__init__("pulse-console", host=host, port=port, title="Pulse Console")
        self.tokens = tokens
        self.environment = environment  # the database, data dir and config of `serve`
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._started = threading.Event()
        self._failed: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="pulse-web", daemon=True)

    def command_for(self, caller: Caller) -> str:
        """The console of `caller`'s client, acting as its token's PostgreSQL role."""
        argv = [sys.executable, "-m", "pulse_console.cli", "--client", caller.client, "tui"]
        return shlex.join([*argv, "--act-as", caller.db_role or ""])

    async def _caller(self, request: web.Request) -> tuple[Caller | None, str | None]:
        token = (
            bearer(request.headers.get("authorization"))
            or request.query.get("token")
            or request.cookies.get(COOKIE)
        )
        if not token:
            return None, None
        found = self.tokens.recent(token)
        if found is None:
            found = await asyncio.get_running_loop().run_in_executor(
                None, self.tokens.caller, token
            )
        return found, token

    @web.middleware
    async def guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith("/static/"):
            return await handler(request)
        caller, token = await self._caller(request)
        if caller is None or caller.db_role is None:
            raise web.HTTPUnauthorized(
                text="Pulse Console: open this page as /?token=<API token> (an admin "
                "creates one with `pulse-console token create --role viewer`).\n",
                headers={"WWW-Authenticate": "Bearer"},
            )
        if request.path == "/ws" and not self._same_origin(request):
            raise web.HTTPForbidden(text="Pulse Console: a WebSocket from another site.\n")
        if "token" in request.query:  # keep it in a cookie, not in the address bar
            response = web.HTTPSeeOther("/")
            response.set_cookie(COOKIE, token or "", httponly=True, samesite="Strict", path="/")
            raise response
        request["caller"] = caller
        return await handler(request)

    @staticmethod
    def _same_origin(request: web.Request) -> bool:
        origin = request.headers.get("Origin")
        return origin is None or urlsplit(origin).netloc == request.host

    async def _make_app(self) -> web.Application:
        app = await super()._make_app()
        app.middlewares.append(self.guard)
        return app

    async def handle_index(self, request: web.Request) -> web.StreamResponse:
        # The page's WebSocket and asset URLs are the address the browser used.
        self.public_url = f"{request.scheme}://{request.host}"
        return await super().handle_index(request)

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        """textual-serve's WebSocket, with the caller's own console process."""
        caller: Caller = request["caller"]
        websocket = web.WebSocketResponse(heartbeat=15)
        await websocket.prepare(request)
        console = ConsoleProcess(
            self.command_for(caller),
            self.environment,
            write_bytes=websocket.send_bytes,
            write_str=websocket.send_str,
            close=websocket.close,
            download_manager=self.download_manager,
        )
        width = to_int(request.query.get("width", "80"), 80)
        height = to_int(request.query.get("height", "24"), 24)
        await console.start(width, height)
        try:
            await self._process_messages(websocket, console)
        finally:
            await console.stop()
        return websocket

    async def on_startup(self, app: web.Application) -> None:
        """(textual-serve prints a banner here; `serve` prints its own line.)"""

    # --- a thread of its own, like the API's server --------------------------------------

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._listen())
        except BaseException as exc:  # an address in use: said by start()
            self._failed = exc
            self._started.set()
            return
        self._started.set()
        loop.run_forever()
        if self._runner is not None:
            loop.run_until_complete(self._runner.cleanup())
        loop.close()

    async def _listen(self) -> None:
        self._runner = web.AppRunner(await self._make_app(), handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        if sockets:
            self.port = int(sockets[0].getsockname()[1])

    def start(self, timeout: float = 20.0) -> WebConsole:
        """Listen (port 0: any free one, `.port` says which); OSError when it cannot."""
        self._thread.start()
        if not self._started.wait(timeout) or self._failed is not None:
            raise OSError(
                f"the web console could not listen on {self.host}:{self.port} "
                f"({self._failed or 'timed out'}): choose another --web-port"
            )
        return self

    def stop(self, timeout: float = 10.0) -> None:
        if self._loop is not None and self._loop.is_running():
            self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout)


def console_environment(
    database_url: str | None, data_dir: str, config: str | None
) -> dict[str, str]:
    """What a tab's console needs to open the same database as `serve` (in its environment,
    not its arguments, so a password never shows in the process list)."""
    environment = {"PULSE_DATA_DIR": data_dir}
    if database_url:
        environment["PULSE_DATABASE_URL"] = database_url
    if config:
        environment["PULSE_CONFIG"] = config
    environment["PATH"] = os.environ.get("PATH", "/usr/bin:/bin")
    return environment
