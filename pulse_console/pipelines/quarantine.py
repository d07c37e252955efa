"""Recording payloads that did not validate (any pipeline): raw JSON plus the error, in the
same transaction as the rows of the batch they came with."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from sqlalchemy import Connection, insert

from storage.models import QuarantinedPayload

RAW_LIMIT = 256 * 1024


class RejectedItem(Protocol):
    """What a connector's validation sets aside (``connectors.*.validation.Rejected``)."""

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


def quarantine(
    conn: Connection,
    client_id: int,
    integration_id: int | None,
    run_id: int | None,
    rejected: Iterable[RejectedItem],
) -> int:
    rows = []
    for item in rejected:
        raw = item.raw
        external = raw.get("id") if isinstance(raw, dict) else None
        source = f" (from {item.source})" if item.source else ""
        rows.append(
            {
                "client_id": client_id,
                "integration_id": integration_id,
                "run_id": run_id,
                "entity": item.kind,
                "external_id": None if external is None else str(external),
                "error": f"{item.error}{source}",
                "raw_text": item.raw_json[:RAW_LIMIT],
            }
        )
    if rows:
        conn.execute(insert(QuarantinedPayload), rows)
    return len(rows)
