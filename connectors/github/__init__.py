"""Typed GitHub client (GitHub.com and Enterprise Server) on the shared HTTP stack.

How a pipeline reads a repository's pull requests, newest-updated first, resumably::

    client = GitHubClient.create([Secret(t) for t in tokens], base_url, cancel=job.cancel)
    sizes = PageSizes()
    page = client.pull_request_page("acme/api", checkpoint.cursor, sizes)
    for pr in page.items:
        rejected = client.complete_pull_request(pr, sizes)   # nested pages via node(id:)
    load(page.items, page.rejected + rejected); commit(checkpoint(page.end_cursor))

``client.budget()`` reports the GraphQL points left over all tokens; ``client.points_used``
what this client has spent.
"""

from connectors.github.budget import BudgetSnapshot, TokenPool
from connectors.github.client import (
    GITHUB_API,
    GitHubClient,
    GraphQLCall,
    Page,
    PageSizes,
    split_tokens,
)
from connectors.github.cost import CostEstimate, estimate
from connectors.github.errors import RATE_LIMIT_TYPES, GraphQLQueryError
from connectors.validation import Rejected

__all__ = [
    "GITHUB_API",
    "RATE_LIMIT_TYPES",
    "BudgetSnapshot",
    "CostEstimate",
    "GitHubClient",
    "GraphQLCall",
    "GraphQLQueryError",
    "Page",
    "PageSizes",
    "Rejected",
    "TokenPool",
    "estimate",
    "split_tokens",
]
