"""Everything the Metrics screen shows about delivery — DORA and the PR breakdown — from one
computation of the delivery chain.

`dora_report` and `pr_cycle_summary` each work on their own; called one after the other
they would each compute which deployment shipped every PR. Here they share one snapshot
(`dora.delivery_snapshot`), so the chain is computed once. The numbers are the same.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection

from pulse_console.metrics.dora import DoraReport, delivery_snapshot, dora_report
from pulse_console.metrics.filters import MetricFilter
from pulse_console.metrics.pr_cycle import PrCycleSummary, pr_cycle_summary
from pulse_console.metrics.settings import MetricsSettings


@dataclass(frozen=True)
class DeliveryOverview:
    dora: DoraReport
    pr_cycle: PrCycleSummary


def delivery_overview(
    conn: Connection, f: MetricFilter, settings: MetricsSettings | None = None
) -> DeliveryOverview:
    s = settings or MetricsSettings.load(conn, f.client_id)
    with delivery_snapshot(conn, f, s):
        return DeliveryOverview(dora=dora_report(conn, f, s), pr_cycle=pr_cycle_summary(conn, f, s))
