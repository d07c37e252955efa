"""Issue search results, one page at a time, for Cloud and Data Center alike."""

from __future__ import annotations

from dataclasses import dataclass, field

from connectors.jira.models.issues import Issue
from connectors.validation import Rejected

# Data Center pages by offset; we carry the offset in the same opaque token slot so the
# pipeline checkpoints one string whatever the deployment.
OFFSET_TOKEN_PREFIX = "startAt:"


@dataclass(frozen=True)
class SearchPage:
    """One page of issues.

    ``next_page_token`` is None on the last page (Cloud omits the key there, JRACLOUD-92184).
    ``total`` is only known on Data Center; on Cloud use ``approximate_count``.
    ``rejected`` holds issues that did not validate, for quarantine.
    """

    issues: list[Issue]
    next_page_token: str | None
    is_last: bool
    total: int | None = None
    rejected: list[Rejected] = field(default_factory=list)


def offset_token(start_at: int) -> str:
    return f"{OFFSET_TOKEN_PREFIX}{start_at}"


def parse_offset_token(token: str | None) -> int:
    if not token:
        return 0
    if not token.startswith(OFFSET_TOKEN_PREFIX):
        raise ValueError(f"not a Data Center page token: {token!r}")
    return int(token[len(OFFSET_TOKEN_PREFIX) :])
