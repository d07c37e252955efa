"""Aha! connector calls for one run: the client, the plan of lists, pages and id walks, each
asked again when Aha! sends an unreadable body.

Per product, releases and goals/initiatives come before the work that points at them, so a
feature's release and goal links always find their rows. A run is a list of ``Step``s
(product, resource); the checkpoint says which step and page come next. An unreadable body
is quarantined with its raw text and asked for again up to `PAYLOAD_ATTEMPTS` times; then
the run fails with one clear line and an intact checkpoint. Nothing here writes rows or
checkpoints.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import httpx

from connectors.aha import (
    EPICS,
    FEATURES,
    GOALS,
    IDEAS,
    INITIATIVES,
    RELEASES,
    AhaClient,
    AhaPage,
    Resource,
    aha_gate,
)
from connectors.aha.models import Product
from connectors.errors import BadPayload
from connectors.http import Secret
from pulse_console.pipelines.aha.options import AhaSyncOptions
from pulse_console.pipelines.base import RunContext
from pulse_console.pipelines.context import token_secret_name
from pulse_console.pipelines.progress import stop_if_cancelled
from pulse_console.pipelines.quarantine import BadResponse, quarantine

T = TypeVar("T")

PAYLOAD_ATTEMPTS = 3
"""An unreadable response is quarantined and asked for again this many times."""

STOPPED = (
    "Stopped between Aha! pages, as requested. Every committed page is kept and the next "
    "run resumes after it."
)

ORDER: tuple[Resource, ...] = (RELEASES, GOALS, INITIATIVES, EPICS, FEATURES, IDEAS)
BY_NAME = {r.name: r for r in ORDER}
WHOLE_EACH_RUN = frozenset({GOALS.name, INITIATIVES.name})
"""Few records, and ``updated_since`` on them is UNVERIFIED: read whole every run."""


class AhaSyncError(Exception):
    """The run cannot go on; ``title``/``message`` are shown to the operator."""

    def __init__(self, message: str, *, title: str = "Aha! sync failed") -> None:
        super().__init__(message)
        self.title = title
        self.message = message

    def __str__(self) -> str:
        return f"{self.title}: {self.message}"


@dataclass(frozen=True)
class Step:
    product_id: str
    resource: str

    @property
    def spec(self) -> Resource:
        return BY_NAME[self.resource]


def plan(products: list[Product]) -> list[Step]:
    return [Step(p.id, r.name) for p in products for r in ORDER]


def select_products(products: list[Product], wanted: tuple[str, ...]) -> list[Product]:
    """The configured products (by id or reference prefix), or all of them."""
    if not wanted:
        return products
    keys = {w.upper() for w in wanted}
    return [p for p in products if p.id in wanted or p.reference_prefix.upper() in keys]


def open_client(
    ctx: RunContext, *, transport: httpx.BaseTransport | None, http_options: Mapping[str, Any]
) -> AhaClient:
    """An Aha! client for the run's integration, with its stored key and the run's cancel."""
    secret_name = token_secret_name(ctx)
    key = ctx.secret(secret_name)
    if not key:
        raise AhaSyncError(
            f"No API key is stored for integration {ctx.integration.name!r} (secret "
            f"{secret_name!r}). Store it with `pulse-console integration add aha … "
            "--token-stdin`, then run the sync again.",
            title="Aha! API key missing",
        )
    http: dict[str, Any] = {**http_options, "cancel": ctx.cancel}
    # Every window, and every run of the account in this process, within one pace.
    http.setdefault("gate", aha_gate(ctx.integration.base_url))
    if transport is not None:
        http["transport"] = transport
    return AhaClient.connect(ctx.integration.base_url, Secret(key), **http)


class AhaExtract:
    """The run's Aha! calls; ``quarantined`` counts the unreadable bodies kept meanwhile."""

    def __init__(self, ctx: RunContext, options: AhaSyncOptions, client: AhaClient) -> None:
        self.ctx = ctx
        self.options = options
        self.client = client
        self.quarantined = 0

    def products(self) -> list[Product]:
        return self.payload(lambda: list(self.client.iter_products()), what="products")

    def page(self, step: Step, page: int, since: datetime | None) -> AhaPage[Any]:
        """Page ``page`` of one list, with ``updated_since`` unless the list is read whole."""
        stop_if_cancelled(self.ctx, STOPPED)
        return self.payload(
            lambda: self.client.list_page(
                step.spec,
                step.product_id,
                page=page,
                per_page=self.options.page_size,
                updated_since=None if step.resource in WHOLE_EACH_RUN else since,
            ),
            what=f"{step.resource} page",
        )

    def ids(self, step: Step) -> list[str]:
        """Every id the list holds now (``fields=id``: the cheapest page there is)."""
        found: list[str] = []
        page = 1
        while True:
            stop_if_cancelled(self.ctx, STOPPED)
            chunk, last = self.payload(
                lambda page=page: self.client.id_page(  # type: ignore[misc]
                    step.spec, step.product_id, page=page, per_page=self.options.page_size
                ),
                what=f"{step.resource} ids",
            )
            found.extend(chunk)
            if last:
                return found
            page += 1

    def payload(self, call: Callable[[], T], *, what: str) -> T:
        """Run ``call``; an unreadable body is quarantined and asked for again, then fails."""
        for attempt in range(1, PAYLOAD_ATTEMPTS + 1):
            try:
                return call()
            except BadPayload as exc:
                with self.ctx.database.engine.begin() as conn:
                    quarantine(conn, self.ctx, [BadResponse.of(what, exc)])
                self.quarantined += 1
                self.ctx.log.warning(
                    "Aha! sent an unreadable %s (attempt %d of %d); kept it in quarantine",
                    what,
                    attempt,
                    PAYLOAD_ATTEMPTS,
                )
                if attempt == PAYLOAD_ATTEMPTS:
                    raise AhaSyncError(
                        f"Aha! kept sending an unreadable {what} ({exc.message}). The payloads "
                        "are in quarantine and the checkpoint is intact: run the sync again "
                        "later to resume.",
                        title="Unreadable Aha! response",
                    ) from None
        raise AssertionError("unreachable")
