"""Aha! API v1 simulator: ``AhaSimulator(aha).handle`` is an httpx handler.

Follows https://www.aha.io/api (API_NOTES §4):

- ``Authorization: Bearer <key>``; a wrong key answers 401 ``{"error": ...}`` (body text
  UNVERIFIED).
- ``GET /api/v1/me``, ``/products``, ``/products/{id}/{features|epics|ideas|releases|goals|
  initiatives}`` and ``/features/{id|ref}``.
- Lists page with ``page``/``per_page`` (default 30, at most 200: larger values are clamped,
  UNVERIFIED), answer ``{"<resource>": [...], "pagination": {"total_records", "total_pages",
  "current_page"}}``, and a page past the last is an empty list with the same block. Items
  are slim unless ``fields=`` names fields. ``updated_since`` keeps records updated at or
  after the instant. Order is creation order (the real order is UNVERIFIED).
- Rate limits per account: 20 requests a second and 300 a minute (fixed windows here); over
  either, 429 with ``X-Ratelimit-Limit``/``-Remaining``/``-Reset`` (epoch seconds). Every
  answer carries the minute window's headers. No ``Retry-After`` (its presence is
  UNVERIFIED).
"""

from __future__ import annotations

import datetime as dt
import math
import re
import time
from collections.abc import Callable
from typing import Any

import httpx

from connectors.sandbox.aha.model import AhaOrg, Product
from connectors.sandbox.aha.render import Renderer, select
from connectors.sandbox.faults import FaultInjector, FaultScenario
from connectors.sandbox.http_app import json_response, site_base
from connectors.sandbox.ratelimit import Clock, Decision, WindowBudget

DEMO_AHA_KEY = "sandbox-aha-api-key-0000000000000000000000000000"
DEFAULT_PER_PAGE = 30
MAX_PER_PAGE = 200
PER_SECOND = 20
PER_MINUTE = 300
_LISTS = ("features", "epics", "ideas", "releases", "goals", "initiatives")


class _Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class AhaSimulator:
    def __init__(
        self,
        aha: AhaOrg,
        api_key: str = DEMO_AHA_KEY,
        faults: FaultScenario | FaultInjector | None = None,
        *,
        clock: Clock = time.time,
        enforce_limits: bool = True,
        history: bool = True,
    ) -> None:
        """``history=False`` leaves ``workflow_status_times`` out of every record (the field
        is UNVERIFIED in v1: this plays an account whose API does not send it)."""
        self.aha = aha
        self.api_key = api_key
        self.faults = faults if isinstance(faults, FaultInjector) else FaultInjector(faults)
        self.enforce_limits = enforce_limits
        self.history = history
        self.per_second = WindowBudget(PER_SECOND, 1.0, clock)
        self.per_minute = WindowBudget(PER_MINUTE, 60.0, clock)
        self.rate_limited = 0  # 429s answered for the account's own limits
        self.requests = 0
        routes: list[tuple[str, Callable[..., httpx.Response]]] = [
            (r"/api/v1/me", self.me),
            (r"/api/v1/products", self.products),
            (r"/api/v1/products/(?P<product>[^/]+)/(?P<resource>[a-z_]+)", self.product_list),
            (r"/api/v1/features/(?P<ref>[^/]+)", self.feature),
        ]
        self._routes = [(re.compile(p + "$"), h) for p, h in routes]

    # ------------------------------------------------------------------ plumbing
    def handle(self, request: httpx.Request) -> httpx.Response:
        """Entry point for ``httpx.MockTransport`` and the socket server."""
        return self.faults.run(request, self._limited, _rate_limited, _server_error)

    def _limited(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        if self.enforce_limits:
            second = self.per_second.consume()
            minute = self.per_minute.consume() if second.allowed else self.per_minute.peek()
            if not (second.allowed and minute.allowed):
                self.rate_limited += 1
                return _rate_limited(request, second if not second.allowed else minute)
        response = self._route(request)
        for name, value in _limit_headers(self.per_minute.peek()).items():
            response.headers[name] = value
        return response

    def _route(self, request: httpx.Request) -> httpx.Response:
        if request.headers.get("authorization") != f"Bearer {self.api_key}":
            return json_response(401, {"error": "The API key is missing or not valid."})
        if request.method != "GET":
            return json_response(405, {"error": "Only GET is simulated."})
        for pattern, handler in self._routes:
            match = pattern.match(request.url.path)
            if match:
                try:
                    return handler(request, **match.groupdict())
                except _Refused as exc:
                    return json_response(exc.status, {"error": exc.message})
        return json_response(404, {"error": "Not found"})

    def _renderer(self, request: httpx.Request) -> Renderer:
        return Renderer(self.aha, site_base(request), history=self.history)

    # ------------------------------------------------------------------ endpoints
    def me(self, request: httpx.Request) -> httpx.Response:
        user = {"id": "6000000000000000001", "name": "Sandbox Demo", "email": "demo@sandbox.local"}
        return json_response(200, {"user": user})

    def products(self, request: httpx.Request) -> httpx.Response:
        r = self._renderer(request)
        # Product list items are already brief (id, reference_prefix, name, product_line,
        # created_at, url) in the resource page's example; fields= narrows them further.
        items = [r.product(p) for p in self.aha.products]
        return self._paged(request, "products", items, _fields(request), slim=False)

    def product_list(self, request: httpx.Request, product: str, resource: str) -> httpx.Response:
        found = self.aha.product_by_id(product) or next(
            (p for p in self.aha.products if p.prefix == product), None
        )
        if found is None or resource not in _LISTS:
            raise _Refused(404, "Not found")
        since = _since(request.url.params.get("updated_since"))
        items = self._items(request, found, resource, since)
        return self._paged(request, resource, items, _fields(request))

    def feature(self, request: httpx.Request, ref: str) -> httpx.Response:
        r = self._renderer(request)
        with self.aha._lock:
            record = self.aha.records.get(ref) or next(
                (x for x in self.aha.records.values() if x.id == ref), None
            )
            if record is None or record.kind != "feature" or record.ref in self.aha.deleted:
                raise _Refused(404, "Not found")
            return json_response(200, {"feature": r.record(record)})

    # ------------------------------------------------------------------ lists
    def _items(
        self, request: httpx.Request, product: Product, resource: str, since: int | None
    ) -> list[Callable[[], dict[str, Any]]]:
        """Thunks, so only the requested page is rendered."""
        r = self._renderer(request)
        p = product.index
        out: list[Callable[[], dict[str, Any]]] = []
        if resource == "releases":
            for x in self.aha.releases.values():
                if x.product == p and (since is None or x.updated_ms >= since):
                    out.append(lambda x=x: r.release(x))  # type: ignore[misc]
        elif resource in ("goals", "initiatives"):
            kind = "goal" if resource == "goals" else "initiative"
            for g in self.aha.goals.values():
                if g.product == p and g.kind == kind and (since is None or g.updated_ms >= since):
                    out.append(lambda g=g: r.goal(g))  # type: ignore[misc]
        else:
            kind = resource[:-1]
            for rec in self.aha.live(kind, p):
                if since is None or rec.updated_ms >= since:
                    out.append(lambda rec=rec: r.record(rec))  # type: ignore[misc]
        return out

    def _paged(
        self,
        request: httpx.Request,
        key: str,
        items: list[Any],
        fields: list[str] | None,
        *,
        slim: bool = True,
    ) -> httpx.Response:
        page = _int_param(request, "page", 1, minimum=1)
        per_page = min(MAX_PER_PAGE, _int_param(request, "per_page", DEFAULT_PER_PAGE, minimum=1))
        total = len(items)
        pages = max(1, math.ceil(total / per_page)) if total else 0
        chunk = items[(page - 1) * per_page : page * per_page]
        rendered = []
        for item in chunk:
            full = item() if callable(item) else item
            rendered.append(select(full, fields) if slim or fields else full)
        pagination = {"total_records": total, "total_pages": pages, "current_page": page}
        return json_response(200, {key: rendered, "pagination": pagination})


def _fields(request: httpx.Request) -> list[str] | None:
    raw = request.url.params.get("fields")
    if not raw:
        return None
    return [f.strip() for f in raw.split(",") if f.strip()]


def _int_param(request: httpx.Request, name: str, default: int, *, minimum: int) -> int:
    raw = request.url.params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise _Refused(400, f"{name} must be an integer") from None
    return max(minimum, value)


def _since(raw: str | None) -> int | None:
    if not raw:
        return None
    try:
        parsed = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise _Refused(400, "updated_since must be an ISO 8601 time") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return int(parsed.timestamp() * 1000)


def _limit_headers(decision: Decision) -> dict[str, str]:
    return {
        "X-Ratelimit-Limit": str(decision.limit),
        "X-Ratelimit-Remaining": str(decision.remaining),
        "X-Ratelimit-Reset": str(math.ceil(decision.reset_at)),
    }


def _rate_limited(request: httpx.Request, decision: Decision) -> httpx.Response:
    body = {"error": "Rate limit exceeded. Please retry after the reset time."}
    return json_response(429, body, _limit_headers(decision))


def _server_error(request: httpx.Request, status: int, retry_after: int | None) -> httpx.Response:
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    return json_response(status, {"error": "Internal server error"}, headers)
