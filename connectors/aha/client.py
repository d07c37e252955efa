"""The typed Aha! client (API v1) on the shared HTTP stack.

- Base URL ``https://{company}.aha.io/api/v1``; ``Authorization: Bearer <API key>``; a
  User-Agent on every request (https://www.aha.io/api, "Authentication"; API_NOTES §4).
- Lists page with ``page`` (1-based) and ``per_page`` (at most 200) and answer with a
  ``pagination`` envelope (``total_records``, ``total_pages``, ``current_page``); a page past
  the last is an empty list (API_NOTES §4).
- ``updated_since`` (ISO 8601) filters features, epics, ideas, releases, goals and
  initiatives for incremental runs (https://www.aha.io/api/resources/features/list_features;
  on goals and initiatives UNVERIFIED — the pipeline re-reads those whole, they are few).
- Rate limits: 300 requests a minute and 20 a second per account, 429 beyond, with
  ``X-Ratelimit-Limit``/``-Remaining``/``-Reset`` (https://www.aha.io/api, "Rate limiting").
  The client paces itself under both (``AHA_PACE``) so a sync never meets a 429, and the
  shared stack still honours one (reset header, else its default wait). Clients given the
  account's shared gate (`aha_gate`: several windows at once) are paced by it instead, so
  all of them together stay under both limits.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, TypeAdapter

from connectors.aha.fields import (
    EPIC_FIELDS,
    FEATURE_FIELDS,
    GOAL_FIELDS,
    IDEA_FIELDS,
    INITIATIVE_FIELDS,
    RELEASE_FIELDS,
    fields_param,
)
from connectors.aha.models import (
    Epic,
    Feature,
    Goal,
    Idea,
    Initiative,
    Me,
    Pagination,
    Product,
    Release,
)
from connectors.base import ConnectionCheck
from connectors.closing import Closing
from connectors.errors import BadPayload, ConnectorError
from connectors.http import (
    DEFAULT_TIMEOUT,
    BearerAuth,
    CancelCheck,
    Clock,
    HttpClient,
    HttpConfig,
    HttpCounters,
    Observer,
    RateLimitPolicy,
    RequestBudget,
    RetryPolicy,
    Secret,
)
from connectors.http.gate import RateGate, gate_for
from connectors.validation import Rejected, validate_each, validate_whole

log = logging.getLogger("connectors.aha")

MAX_PER_PAGE = 200
"""``per_page`` ceiling of every v1 list endpoint (API_NOTES §4)."""

RATE_PER_MINUTE = 300
RATE_PER_SECOND = 20
"""Aha!'s documented limits per account (https://www.aha.io/api, "Rate limiting")."""

AHA_PACE = RequestBudget(max_per_minute=RATE_PER_MINUTE - 6, max_per_second=RATE_PER_SECOND - 2)
"""The client's own pace: a little under both limits, because the server counts arrival
times and ours are send times (latency jitter must not push a window over)."""

AHA_MAX_IN_FLIGHT = 8
"""Requests one account sends at once (Aha! documents no concurrency limit; the pace
decides the rate, this only bounds the connections)."""


def new_aha_gate() -> RateGate:
    """A rate gate pacing every chain of one account together under `AHA_PACE`."""
    assert AHA_PACE.max_per_minute is not None and AHA_PACE.max_per_second is not None
    return RateGate(
        AHA_MAX_IN_FLIGHT,
        per_minute={"all": AHA_PACE.max_per_minute},
        per_second={"all": AHA_PACE.max_per_second},
    )


def aha_gate(base_url: str) -> RateGate:
    """The process's one gate of the Aha! account at ``base_url`` (the limits are per
    account: https://www.aha.io/api, "Rate limiting")."""
    return gate_for("aha", api_base(base_url), make=new_aha_gate)


USER_AGENT = "pulse-console (Aha! sync; https://github.com/pulse-console)"

M = TypeVar("M", bound=BaseModel)

_me = TypeAdapter(Me)


@dataclass(frozen=True)
class Resource:
    """One list endpoint: collection key, per-product path suffix, model and fields."""

    name: str  # collection key in the response, e.g. "features"
    model: type[BaseModel]
    fields: tuple[str, ...]


FEATURES = Resource("features", Feature, FEATURE_FIELDS)
EPICS = Resource("epics", Epic, EPIC_FIELDS)
IDEAS = Resource("ideas", Idea, IDEA_FIELDS)
RELEASES = Resource("releases", Release, RELEASE_FIELDS)
GOALS = Resource("goals", Goal, GOAL_FIELDS)
INITIATIVES = Resource("initiatives", Initiative, INITIATIVE_FIELDS)


@dataclass
class AhaPage(Generic[M]):
    """One page of a list: the records that validated, those that did not, and where we are."""

    items: list[M]
    rejected: list[Rejected]
    pagination: Pagination
    raw_count: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def is_last(self) -> bool:
        p = self.pagination
        return self.raw_count == 0 or p.current_page >= p.total_pages


class AhaClient(Closing):
    """Reads one Aha! account through the shared :class:`HttpClient` (one per job)."""

    source = "aha"

    def __init__(self, http: HttpClient) -> None:
        self.http = http

    @classmethod
    def connect(cls, base_url: str, api_key: Secret, **options: Any) -> AhaClient:
        """``base_url`` is ``https://{company}.aha.io`` (``/api/v1`` is added if missing).

        ``options``: transport, clock, cancel, observer, retry, rate_limit, budget, timeout,
        gate. ``budget`` defaults to :data:`AHA_PACE`, or to no pace of its own with a
        ``gate`` (the gate paces every client of the account).
        """
        gate: RateGate | None = options.pop("gate", None)
        config = HttpConfig(
            base_url=api_base(base_url),
            source="aha",
            auth=BearerAuth(api_key),
            timeout=options.pop("timeout", DEFAULT_TIMEOUT),
            retry=options.pop("retry", RetryPolicy()),
            rate_limit=options.pop("rate_limit", RateLimitPolicy()),
            budget=options.pop("budget", AHA_PACE if gate is None else RequestBudget()),
            user_agent=USER_AGENT,
        )
        transport = options.pop("transport", None)
        clock: Clock | None = options.pop("clock", None)
        cancel: CancelCheck | None = options.pop("cancel", None)
        observer: Observer | None = options.pop("observer", None)
        if options:
            raise TypeError(f"unknown Aha! client options: {', '.join(sorted(options))}")
        return cls(
            HttpClient(
                config,
                transport=transport,
                clock=clock,
                cancel=cancel,
                observer=observer,
                gate=gate,
            )
        )

    # -- Connector protocol ----------------------------------------------------------------

    def counters(self) -> HttpCounters:
        return self.http.counters()

    def close(self) -> None:
        self.http.close()

    def __repr__(self) -> str:
        return f"AhaClient({self.http.config.base_url!r})"

    def test_connection(self) -> ConnectionCheck:
        """Who is the key's user? One cheap call (GET /me); failures become text.

        https://www.aha.io/api/resources/me/get_the_current_user
        """
        try:
            me = self.me()
            products = self.products(per_page=1)
        except ConnectorError as exc:
            return ConnectionCheck(ok=False, title=exc.title, message=exc.message)
        who = me.name or me.email or me.id
        count = products.pagination.total_records
        return ConnectionCheck(
            ok=True,
            title="Connected",
            message=f"Connected to Aha! ({self.http.config.base_url}) as {who}; "
            f"{count} product(s) visible.",
            account=who,
            server=self.http.config.base_url,
        )

    # -- calls -----------------------------------------------------------------------------

    def me(self) -> Me:
        data = self.http.get_json("me")
        # The body wraps the user as {"user": {...}} (UNVERIFIED: the resource page's example
        # is the only source).
        body = data.get("user") if isinstance(data, dict) else None
        return validate_whole(_me, body, what="the current user", source="GET /me")

    def products(self, *, page: int = 1, per_page: int = MAX_PER_PAGE) -> AhaPage[Product]:
        """GET /products — https://www.aha.io/api/resources/products/list_products"""
        return self._page("products", Product, "products", None, page, per_page, None)

    def iter_products(self) -> Iterator[Product]:
        page = 1
        while True:
            result = self.products(page=page)
            yield from result.items
            if result.is_last:
                return
            page += 1

    def list_page(
        self,
        resource: Resource,
        product_id: str,
        *,
        page: int = 1,
        per_page: int = MAX_PER_PAGE,
        updated_since: datetime | None = None,
    ) -> AhaPage[Any]:
        """One page of ``/products/{id}/{resource}`` with the fields we store."""
        path = f"products/{product_id}/{resource.name}"
        return self._page(
            path, resource.model, resource.name, resource.fields, page, per_page, updated_since
        )

    def id_page(
        self, resource: Resource, product_id: str, *, page: int = 1, per_page: int = MAX_PER_PAGE
    ) -> tuple[list[str], bool]:
        """The ids on one page of ``/products/{id}/{resource}`` (``fields=id``), and whether it
        is the last: the reconciliation walk that finds deleted records."""
        path = f"products/{product_id}/{resource.name}"
        params: dict[str, Any] = {"page": page, "per_page": min(per_page, MAX_PER_PAGE)}
        params["fields"] = "id"
        data = self.http.get_json(path, params=params)
        items = data.get(resource.name) if isinstance(data, dict) else None
        pagination = data.get("pagination") if isinstance(data, dict) else None
        if not isinstance(items, list) or not isinstance(pagination, dict):
            raise BadPayload(
                f"GET /{path}?fields=id returned no '{resource.name}' list and pagination.",
                raw=str(data)[:2000],
                url=path,
            )
        ids = [str(i["id"]) for i in items if isinstance(i, dict) and "id" in i]
        p = validate_whole(
            TypeAdapter(Pagination), pagination, what="pagination", source=f"GET /{path}"
        )
        return ids, not items or p.current_page >= p.total_pages

    def _page(
        self,
        path: str,
        model: type[M],
        key: str,
        fields: Sequence[str] | None,
        page: int,
        per_page: int,
        updated_since: datetime | None,
    ) -> AhaPage[M]:
        params: dict[str, Any] = {"page": page, "per_page": min(per_page, MAX_PER_PAGE)}
        if fields:
            params["fields"] = fields_param(fields)
        if updated_since is not None:
            params["updated_since"] = iso8601(updated_since)
        data = self.http.get_json(path, params=params)
        source = f"GET /{path}?page={page}"
        if not isinstance(data, dict) or key not in data or "pagination" not in data:
            raise BadPayload(
                f"{source} returned a response without '{key}' and 'pagination'; "
                "the API may have changed.",
                raw=str(data)[:2000],
                url=path,
            )
        pagination = validate_whole(
            TypeAdapter(Pagination), data["pagination"], what="pagination", source=source
        )
        items, rejected = validate_each(model, data[key], kind=key, source=source)
        return AhaPage(items, rejected, pagination, raw_count=len(data[key]))


def api_base(base_url: str) -> str:
    """``https://x.aha.io`` or ``…/api/v1`` → ``https://x.aha.io/api/v1/`` (trailing slash, so
    relative paths resolve under it)."""
    url = base_url.rstrip("/")
    if not url.endswith("/api/v1"):
        url += "/api/v1"
    return url + "/"


def iso8601(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
