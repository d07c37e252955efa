"""`ci_runs` read back by deployments: which repository and commit a run (build) built."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, select

from storage.models import CiRun


def built(
    conn: Connection, client_id: int, integration_id: int, runs: Iterable[str]
) -> dict[str, tuple[int | None, str | None]]:
    """Run external id → (repository id, sha) of those stored."""
    wanted = sorted(set(runs))
    if not wanted:
        return {}
    rows = conn.execute(
        select(CiRun.external_id, CiRun.repository_id, CiRun.sha).where(
            CiRun.client_id == client_id,
            CiRun.integration_id == integration_id,
            CiRun.external_id.in_(wanted),
        )
    )
    return {str(e): (r, s) for e, r, s in rows}
