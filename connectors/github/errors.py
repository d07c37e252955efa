"""GitHub-specific errors (on top of ``connectors.errors``)."""

from __future__ import annotations

from typing import Any

from connectors.errors import ConnectorError

RATE_LIMIT_TYPES = frozenset({"RATE_LIMIT", "RATE_LIMITED"})
"""GitHub's primary-limit error ``type``: ``RATE_LIMIT`` (code ``graphql_rate_limit``) today,
``RATE_LIMITED`` in older responses and many clients' tests; both are recognised."""


class GraphQLQueryError(ConnectorError):
    """GitHub answered a GraphQL call with ``errors`` we cannot work around.

    ``errors`` are GitHub's error objects as sent (``type``, ``message``, ``path`` …).
    """

    default_title = "GitHub query failed"

    def __init__(
        self, message: str, *, errors: list[dict[str, Any]], title: str | None = None
    ) -> None:
        super().__init__(message, title=title)
        self.errors = errors

    @property
    def types(self) -> set[str]:
        return {str(e.get("type")) for e in self.errors if e.get("type")}


def is_rate_limit_error(error: dict[str, Any]) -> bool:
    return str(error.get("type", "")).upper() in RATE_LIMIT_TYPES or (
        error.get("code") == "graphql_rate_limit"
    )


def describe(errors: list[dict[str, Any]]) -> str:
    parts = []
    for e in errors[:5]:
        kind = f"{e['type']}: " if e.get("type") else ""
        parts.append(f"{kind}{str(e.get('message', e))[:300]}")
    more = f" (+{len(errors) - 5} more)" if len(errors) > 5 else ""
    return "; ".join(parts) + more
