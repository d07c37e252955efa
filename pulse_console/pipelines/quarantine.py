"""Recording payloads that did not validate (every pipeline): raw JSON plus the error, in the
same transaction as the rows of the batch they came with.

Two kinds arrive: an item a connector's validation set aside inside a good page
(``connectors.validation.Rejected``), and a whole response that could not be read at all
(`BadResponse`, built from ``connectors.errors.BadPayload``). Both become one
`quarantined_payloads` row: ``entity`` (≤ 64 characters), the item's id when it has one,
``"<source>: <error>"`` and the raw text (at most `RAW_LIMIT` characters).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Connection

from connectors.errors import BadPayload
from pulse_console.pipelines.base import RunContext
from storage import quarantine as quarantine_rows

RAW_LIMIT = 256 * 1024
ENTITY_LIMIT = 64
ID_FIELDS = ("id", "issueId", "key")  # where an item's own id is, in order of preference


class RejectedItem(Protocol):
    """What a connector's validation sets aside (``connectors.validation.Rejected``)."""

    @property
    def kind(self) -> str: ...
    @property
    def raw(self) -> Any: ...
    @property
    def error(self) -> str: ...
    @property
    def source(self) -> str: ...
    @property
    def raw_json(self) -> str: ...


@dataclass(frozen=True)
class BadResponse:
    """A whole response that could not be read (not JSON, or not the expected shape)."""

    kind: str
    raw_text: str
    error: str
    source: str = ""
    external_id: str | None = None

    @classmethod
    def of(cls, what: str, exc: BadPayload, external_id: str | None = None) -> BadResponse:
        error = exc.message + (" (truncated)" if exc.truncated else "")
        return cls(
            kind=what, raw_text=exc.raw, error=error, source=exc.url, external_id=external_id
        )


def quarantine(
    conn: Connection, ctx: RunContext, rejected: Iterable[RejectedItem | BadResponse]
) -> int:
    """Keep the payloads verbatim, with the error that rejected them; returns how many."""
    rows = [
        {
            "client_id": ctx.client_id,
            "integration_id": ctx.integration.id,
            "run_id": ctx.run_id or None,  # 0: a foreground run not recorded in job_runs
            "entity": r.kind[:ENTITY_LIMIT],
            "external_id": r.external_id if isinstance(r, BadResponse) else _external_id(r.raw),
            "error": f"{r.source}: {r.error}" if r.source else r.error,
            "raw_text": (r.raw_text if isinstance(r, BadResponse) else r.raw_json)[:RAW_LIMIT],
        }
        for r in rejected
    ]
    return quarantine_rows.record(conn, rows)


def _external_id(raw: Any) -> str | None:
    if isinstance(raw, dict):
        for key in ID_FIELDS:
            if raw.get(key) is not None:
                return str(raw[key])
    return None
