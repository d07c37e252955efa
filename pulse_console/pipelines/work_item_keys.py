"""Finding Jira keys in pull-request titles, branch names and commit messages.

One case-insensitive regex built from the configured project keys (``ALP``, ``OPS`` …):
``(?<![A-Za-z0-9])(ALP|OPS)-[1-9][0-9]*(?![0-9])``. Branches often lower-case the key
(``feature/alp-12-fix``), so matching ignores case and keys are upper-cased. Without project
keys any ``WORD-123`` matches; unknown keys simply resolve to no work item.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

GENERIC_PROJECT = r"[A-Za-z][A-Za-z0-9_]{0,30}"


class KeyMatcher:
    def __init__(self, project_keys: Iterable[str] = ()) -> None:
        keys = sorted({k.strip().upper() for k in project_keys if k and k.strip()}, key=len)
        alternatives = "|".join(re.escape(k) for k in reversed(keys)) or GENERIC_PROJECT
        self.pattern = re.compile(
            rf"(?<![A-Za-z0-9])(?:{alternatives})-[1-9][0-9]*(?![0-9])", re.IGNORECASE
        )
        self.project_keys = tuple(keys)

    def find(self, text: str | None) -> list[str]:
        """Distinct keys in ``text``, upper-cased, in order of appearance."""
        if not text:
            return []
        seen: dict[str, None] = {}
        for m in self.pattern.finditer(text):
            seen.setdefault(m.group(0).upper(), None)
        return list(seen)
