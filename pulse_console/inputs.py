"""Rules for what an operator types in: client and integration names, base URLs.

Names follow one slug rule: 1 to 100 letters, digits, `.`, `_` and `-`, starting with a
letter or a digit. Names become parts of file names (`jobs-<client>.jsonl`) and are printed in the
terminal, so a separator, a leading dot or dash, a space or a control character is refused
where a name is created (command line, config file, the console's form), not cleaned later.

A base URL is http(s) with a host, and never carries credentials (`https://user:pw@host`
would be stored in plain text in `integrations.base_url`; tokens belong in the secret store).
"""

from __future__ import annotations

import re

import httpx

SLUG_RULE = "1-100 letters, digits, '.', '_' or '-', starting with a letter or digit"
_SLUG = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")


class BadInput(ValueError):
    """A name or URL that breaks its rule; `str()` says which and what to type instead."""


def is_slug(name: str) -> bool:
    return _SLUG.fullmatch(name) is not None


def check_name(kind: str, name: str) -> str:
    """`name` if it follows the slug rule, else BadInput ("client name '../x': use …")."""
    if not is_slug(name):
        raise BadInput(f"{kind} name {name!r} is not allowed: use {SLUG_RULE}")
    return name


def check_base_url(url: str) -> str:
    """`url` without a trailing slash if it is a usable base URL, else BadInput saying why."""
    text = url.strip()
    try:
        parsed = httpx.URL(text)
    except (httpx.InvalidURL, ValueError) as exc:
        raise BadInput(f"base URL {url!r} is not a valid URL ({exc})") from None
    if parsed.scheme not in ("http", "https"):
        shown = parsed.scheme or "none"
        raise BadInput(f"base URL {url!r}: scheme {shown!r} is not supported; use https://")
    try:
        port = parsed.port
    except ValueError:
        port = None
    if port is not None and not 0 < port < 65536:
        raise BadInput(f"base URL {url!r}: port {port} is out of range")
    if parsed.userinfo:
        raise BadInput(
            "base URL must not contain credentials (user:password@); remove them and pass "
            "the token with --token-stdin: it is kept in the secret store"
        )
    if not parsed.host or any(c.isspace() for c in text):
        raise BadInput(f"base URL {url!r} needs a host, e.g. https://acme.atlassian.net")
    return text.rstrip("/")
