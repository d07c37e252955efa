"""Typed Aha! API v1 client on the shared HTTP stack.

How a pipeline reads a product's features, page by page, with everything it stores::

    client = AhaClient.connect("https://acme.aha.io", Secret(key), cancel=job.cancel)
    for product in client.iter_products():
        page = 1
        while True:
            result = client.list_page(FEATURES, product.id, page=page, updated_since=since)
            load(result.items, result.rejected); commit(checkpoint(resource, page))
            if result.is_last: break
            page += 1
"""

from connectors.aha.client import (
    AHA_PACE,
    EPICS,
    FEATURES,
    GOALS,
    IDEAS,
    INITIATIVES,
    MAX_PER_PAGE,
    RATE_PER_MINUTE,
    RATE_PER_SECOND,
    RELEASES,
    AhaClient,
    AhaPage,
    Resource,
    aha_gate,
    api_base,
    new_aha_gate,
)

__all__ = [
    "AHA_PACE",
    "EPICS",
    "FEATURES",
    "GOALS",
    "IDEAS",
    "INITIATIVES",
    "MAX_PER_PAGE",
    "RATE_PER_MINUTE",
    "RATE_PER_SECOND",
    "RELEASES",
    "AhaClient",
    "AhaPage",
    "Resource",
    "aha_gate",
    "api_base",
    "new_aha_gate",
]
