"""Estimating a GraphQL call's rate-limit cost before sending it, as GitHub computes it.

https://docs.github.com/graphql/overview/rate-limits-and-node-limits-for-the-graphql-api
("Calculating a rate limit score"): add up the requests needed to fulfil each connection,
assuming every ``first``/``last`` is reached — one for a top-level connection, one per parent
node for a nested one — divide by 100 and round to the nearest integer, minimum 1. The node
limit multiplies ``first``/``last`` down the nesting; more than 500,000 is refused.

Every GitHub connection takes ``first``/``last``, so a field with either argument is a
connection here; no schema is needed.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    parse,
    value_from_ast_untyped,
)

MAX_NODES = 500_000


@dataclass(frozen=True)
class CostEstimate:
    requests: int
    nodes: int

    @property
    def points(self) -> int:
        return max(1, int(self.requests / 100 + 0.5))


@functools.lru_cache(maxsize=64)
def _parsed(query: str) -> DocumentNode:
    return parse(query, no_location=True)


def estimate(query: str, variables: dict[str, Any] | None = None) -> CostEstimate:
    """Requests, nodes and points ``query`` will be charged with these ``variables``."""
    document = _parsed(query)
    variables = variables or {}
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
    requests = 0
    nodes = 0

    def bound(field: FieldNode) -> int | None:
        for arg in field.arguments or ():
            if arg.name.value in ("first", "last"):
                value = value_from_ast_untyped(arg.value, variables)
                return value if isinstance(value, int) else None
        return None

    def is_connection(field: FieldNode) -> bool:
        return any(a.name.value in ("first", "last") for a in field.arguments or ())

    def walk(selection_set: SelectionSetNode | None, mult: int, seen: frozenset[str]) -> None:
        nonlocal requests, nodes
        if selection_set is None:
            return
        for sel in selection_set.selections:
            if isinstance(sel, FieldNode):
                child = mult
                if is_connection(sel):
                    requests += mult
                    n = bound(sel)
                    if n:
                        child = mult * n
                        nodes += child
                walk(sel.selection_set, child, seen)
            elif isinstance(sel, InlineFragmentNode):
                walk(sel.selection_set, mult, seen)
            elif isinstance(sel, FragmentSpreadNode) and sel.name.value not in seen:
                frag = fragments.get(sel.name.value)
                if frag is not None:
                    walk(frag.selection_set, mult, seen | {sel.name.value})

    walk(operation.selection_set, 1, frozenset())
    return CostEstimate(requests, nodes)
