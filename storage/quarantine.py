"""Keeping payloads that did not validate: one `quarantined_payloads` row each.

Runs in the caller's transaction, so a batch's rows, its rejects and its checkpoint commit
together. The rows are built by `pulse_console.pipelines.quarantine` (the one writer).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, insert

from storage.models import QuarantinedPayload


def record(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> int:
    """Insert the rows (client_id, integration_id, run_id, entity, external_id, error,
    raw_text); returns how many."""
    if rows:
        conn.execute(insert(QuarantinedPayload), list(rows))
    return len(rows)
