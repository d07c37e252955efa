"""Which lists one run reads, in which order, and reading them page by page.

Per product, releases and goals/initiatives come before the work that points at them, so a
feature's release and goal links always find their rows. A run is a list of ``Step``s
(product, resource); the checkpoint says which step and page come next.
"""

from __future__ import annotations

from dataclasses import dataclass

from connectors.aha import (
    EPICS,
    FEATURES,
    GOALS,
    IDEAS,
    INITIATIVES,
    RELEASES,
    AhaClient,
    Resource,
)
from connectors.aha.models import Product

ORDER: tuple[Resource, ...] = (RELEASES, GOALS, INITIATIVES, EPICS, FEATURES, IDEAS)
BY_NAME = {r.name: r for r in ORDER}
WHOLE_EACH_RUN = frozenset({GOALS.name, INITIATIVES.name})
"""Few records, and ``updated_since`` on them is UNVERIFIED: read whole every run."""


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


def all_ids(client: AhaClient, step: Step, *, per_page: int) -> list[str]:
    """Every id the list holds now (``fields=id``: the cheapest page there is)."""
    ids: list[str] = []
    page = 1
    while True:
        chunk, last = client.id_page(step.spec, step.product_id, page=page, per_page=per_page)
        ids.extend(chunk)
        if last:
            return ids
        page += 1
