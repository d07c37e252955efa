"""A wrapper that keeps credentials out of reprs, logs and tracebacks."""

from __future__ import annotations

import hmac
from typing import Any

_MASK = "***"
_SENSITIVE_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})


class Secret:
    """A credential whose value is only reachable through :meth:`reveal`.

    ``repr``, ``str`` and ``format`` all print ``***`` so an accidental f-string, log call or
    exception message cannot leak it. Pickling is refused for the same reason.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret({_MASK!r})"

    def __str__(self) -> str:
        return _MASK

    def __format__(self, spec: str) -> str:
        return _MASK

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        # Constant time, so comparisons cannot be used as a timing oracle.
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __reduce__(self) -> Any:
        raise TypeError("Secret values cannot be pickled")


def redact_headers(headers: Any) -> dict[str, str]:
    """A copy of ``headers`` (any mapping or httpx.Headers) safe to log."""
    return {
        str(k): (_MASK if str(k).lower() in _SENSITIVE_HEADERS else str(v))
        for k, v in headers.items()
    }
