"""Static analysis of a GraphQL call: node count and rate-limit cost, as GitHub computes them.

https://docs.github.com/graphql/overview/rate-limits-and-node-limits-for-the-graphql-api

- *Node limit*: every connection multiplies the nodes below it by its ``first``/``last``;
  the sum over all connections must stay at or under 500,000, otherwise GitHub refuses the
  whole call (``MAX_NODE_LIMIT_EXCEEDED``) before running it.
- *Cost*: "Add up the number of requests needed to fulfill each unique connection in the call.
  Assume every request will reach the first or last argument limits. Divide the number by 100
  and round the result to the nearest whole number to get the final aggregate cost. Rate
  limits always have a minimum cost of 1." A top-level connection needs one request; one
  nested in it needs one per parent node, i.e. the product of the page sizes above it.

Missing or out-of-range ``first``/``last`` are reported by the connection's resolver (with a
path), as GitHub does; here a missing bound multiplies by nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLNamedType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
    value_from_ast_untyped,
)

MAX_NODES = 500_000


@dataclass(frozen=True, slots=True)
class Analysis:
    requests: int
    node_count: int
    exceeded_at: str | None  # connection at which the node count passed MAX_NODES

    @property
    def cost(self) -> int:
        return max(1, int(self.requests / 100 + 0.5))

    @property
    def node_limit_message(self) -> str:
        return (
            f"By the time this query traverses to the {self.exceeded_at} connection, it is "
            f"requesting up to {self.node_count:,} possible nodes which exceeds the maximum "
            f"limit of {MAX_NODES:,}."
        )


def is_connection_type(type_name: str) -> bool:
    return type_name.endswith("Connection")


def analyse(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: dict[str, FragmentDefinitionNode],
    variables: dict[str, Any],
) -> Analysis:
    requests = 0
    nodes = 0
    exceeded: str | None = None

    def bound(field: FieldNode) -> int | None:
        for arg in field.arguments or ():
            if arg.name.value in ("first", "last"):
                value = value_from_ast_untyped(arg.value, variables)
                if isinstance(value, int):
                    return value
        return None

    def walk(selection_set: SelectionSetNode | None, parent: GraphQLNamedType, mult: int) -> None:
        nonlocal requests, nodes, exceeded
        if selection_set is None:
            return
        for sel in selection_set.selections:
            if isinstance(sel, FieldNode):
                fields = getattr(parent, "fields", None)
                definition = fields.get(sel.name.value) if fields else None
                if definition is None:
                    continue
                named = get_named_type(definition.type)
                child = mult
                if is_connection_type(named.name) and "first" in definition.args:
                    requests += mult
                    n = bound(sel)
                    if n is not None and n > 0:
                        child = mult * n
                        nodes += child
                        if nodes > MAX_NODES and exceeded is None:
                            exceeded = sel.name.value
                walk(sel.selection_set, named, child)
            elif isinstance(sel, InlineFragmentNode):
                target = parent
                if sel.type_condition is not None:
                    target = schema.get_type(sel.type_condition.name.value) or parent
                walk(sel.selection_set, target, mult)
            elif isinstance(sel, FragmentSpreadNode):
                frag = fragments.get(sel.name.value)
                if frag is not None:
                    target = schema.get_type(frag.type_condition.name.value) or parent
                    walk(frag.selection_set, target, mult)

    root = schema.query_type
    assert root is not None
    walk(operation.selection_set, root, 1)
    return Analysis(requests, nodes, exceeded)
