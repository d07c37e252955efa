"""Credentials: a wrapper that keeps them out of reprs, and the one redaction step.

Every `Secret` made in this process is remembered (with its base64, Basic and URL-encoded
forms) so that `redact` can remove it from any text before it is stored, logged or shown:
a server may echo the request's `Authorization` header in an error body, and that text
travels into error messages, job rows, log files and the terminal. Every sink calls
`redact`; it is the only place that knows what a secret looks like.
"""

from __future__ import annotations

import base64
import hmac
import threading
from typing import Any
from urllib.parse import quote, quote_plus

_MASK = "***"
# Shorter values would redact ordinary words; no real token is this short.
MIN_SECRET_LENGTH = 6
_held: set[str] = set()
_held_lock = threading.Lock()
_by_length: list[str] = []  # `_held`, longest first, so a longer form is masked whole
_SENSITIVE_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})


class Secret:
    """A credential whose value is only reachable through :meth:`reveal`.

    ``repr``, ``str`` and ``format`` all print ``***`` so an accidental f-string, log call or
    exception message cannot leak it. Pickling is refused for the same reason.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value
        hold(value)

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


def hold(value: str) -> None:
    """Remember `value` (and the forms it travels in) as a secret `redact` removes."""
    if len(value) < MIN_SECRET_LENGTH:
        return
    b64 = base64.b64encode(value.encode()).decode("ascii")
    forms = {value, b64, b64.rstrip("="), quote(value, safe=""), quote_plus(value)}
    global _by_length
    with _held_lock:
        if forms <= _held:
            return
        _held.update(forms)
        _by_length = sorted(_held, key=len, reverse=True)


def hold_basic(username: str, token: str) -> None:
    """Remember the `username:token` pair HTTP Basic sends (base64 of the two together)."""
    hold(f"{username}:{token}")


def redact(text: str) -> str:
    """`text` with every secret this process holds (in any of its forms) replaced by ***."""
    for value in _by_length:
        if value in text:
            text = text.replace(value, _MASK)
    return text
