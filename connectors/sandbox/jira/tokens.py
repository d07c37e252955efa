"""Opaque page tokens for search/jql and changelog/bulkfetch.

A search token pins the org version the walk started at and the sort key of the last issue
returned, so the next page resumes strictly after it in the same snapshot: every issue
appears exactly once even while issues are updated, moved or deleted during the walk. The
query is fingerprinted so a token cannot be replayed against another query.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any


class TokenError(ValueError):
    pass


def fingerprint(*parts: object) -> str:
    return hashlib.sha1(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:12]


def encode(payload: dict[str, Any]) -> str:
    raw = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(token: str, expected_fingerprint: str) -> dict[str, Any]:
    try:
        padded = token + "=" * (-len(token) % 4)
        payload = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError) as exc:
        raise TokenError("The provided next page token is invalid or expired.") from exc
    if not isinstance(payload, dict) or payload.get("f") != expected_fingerprint:
        raise TokenError("The provided next page token is invalid or expired.")
    return payload
