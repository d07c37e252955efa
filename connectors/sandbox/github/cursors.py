"""Opaque cursors and keyset paging shared by every GraphQL connection and REST list.

GitHub's connection cursors are opaque base64 strings (``Y3Vyc29yOnYyOpK5...`` decodes to
``cursor:v2:`` and the sort values of the last item), so a cursor names a *position in an
ordering*, not an offset: https://docs.github.com/graphql/guides/using-pagination-in-the-graphql-api
Ours encode the sort key of the item (e.g. ``(updatedAt ms, number)``). A walk therefore never
skips an item that stays where it was, whatever is inserted or updated meanwhile: an item
updated after it was returned moves past the cursor and comes back once more (ascending
order), exactly as with GitHub.
"""

from __future__ import annotations

import base64
import binascii
import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

T = TypeVar("T")
Key = tuple[int, ...]
_PREFIX = "cursor:v2:"


class CursorError(ValueError):
    def __init__(self, cursor: str) -> None:
        super().__init__(f"`{cursor}` does not appear to be a valid cursor.")
        self.cursor = cursor


def encode(key: Key) -> str:
    raw = _PREFIX + ",".join(str(k) for k in key)
    return base64.b64encode(raw.encode()).decode()


def decode(cursor: str) -> Key:
    try:
        raw = base64.b64decode(cursor.encode(), validate=True).decode()
        if not raw.startswith(_PREFIX):
            raise CursorError(cursor)
        return tuple(int(part) for part in raw[len(_PREFIX) :].split(","))
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise CursorError(cursor) from exc


@dataclass(slots=True)
class PageInfo:
    """GraphQL ``PageInfo`` (attribute names are the schema's field names)."""

    startCursor: str | None
    endCursor: str | None
    hasNextPage: bool
    hasPreviousPage: bool


@dataclass(slots=True)
class Edge(Generic[T]):
    cursor: str
    node: T


@dataclass(slots=True)
class Connection(Generic[T]):
    """Any ``...Connection`` type; the default resolver reads these attributes."""

    nodes: list[T]
    cursors: list[str]
    pageInfo: PageInfo
    totalCount: int
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def edges(self) -> list[Edge[T]]:
        return [Edge(c, n) for c, n in zip(self.cursors, self.nodes, strict=True)]

    def __getattr__(self, name: str) -> Any:  # e.g. SearchResultItemConnection.repositoryCount
        try:
            return self.extra[name]
        except KeyError:
            raise AttributeError(name) from None


@dataclass(frozen=True, slots=True)
class Window:
    """Which slice of an ordering a request asks for: ``first``/``after`` or ``last``/``before``."""

    first: int | None = None
    last: int | None = None
    after: str | None = None
    before: str | None = None


def page(
    items: Sequence[T],
    keys: Sequence[Key],
    window: Window,
    *,
    total: int | None = None,
    key_of: Callable[[int], Key] | None = None,
) -> tuple[list[T], list[str], PageInfo]:
    """Slice ``items`` (sorted ascending by ``keys``) the way a Relay connection does."""
    lo, hi = 0, len(items)
    if window.after is not None:
        lo = bisect.bisect_right(keys, decode(window.after))
    if window.before is not None:
        hi = max(lo, bisect.bisect_left(keys, decode(window.before)))
    start, end = lo, hi
    if window.first is not None:
        end = min(end, start + window.first)
    if window.last is not None:
        start = max(start, end - window.last)
    chosen = list(items[start:end])
    cursors = [encode(keys[i]) for i in range(start, end)]
    info = PageInfo(
        startCursor=cursors[0] if cursors else None,
        endCursor=cursors[-1] if cursors else None,
        hasNextPage=end < len(items),
        hasPreviousPage=start > 0,
    )
    return chosen, cursors, info
