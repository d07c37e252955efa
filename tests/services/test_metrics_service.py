"""services.metrics: the Metrics screen's figures and drill-downs, for a period and project."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine

from pulse_console.metrics.dora import dora_report
from pulse_console.metrics.filters import MetricFilter
from pulse_console.metrics.flow_metrics import completed_items, flow_overview
from pulse_console.metrics.pr_cycle import pr_cycle_summary, pr_cycles
from pulse_console.metrics.settings import MetricsSettings
from pulse_console.services import metrics
from pulse_console.services.client_services import ClientServices
from pulse_console.services.metrics import MetricsQuery
from storage.db import Database
from tests.metrics.seed import CLIENT
from tests.tui.fakes import NOW
from tests.tui.metrics_seed import seed_delivery


def test_without_synced_data_the_view_is_empty(tenant: Engine, database: Database) -> None:
    for client in ("acme", "nobody"):
        view = metrics.load(database, client, MetricsQuery(30), now=NOW)
        assert view.empty and view.flow is None and view.prs is None and view.projects == []
        assert view.since == datetime(2025, 12, 16, tzinfo=UTC)
        assert view.until == datetime(2026, 1, 15, tzinfo=UTC)  # today is excluded
        drill = metrics.drill_down(database, client, MetricsQuery(30), "lead", now=NOW)
        assert drill.rows == 0


def test_the_view_is_the_three_screen_queries_for_the_period_and_project(
    tenant: Engine, database: Database
) -> None:
    seed_delivery(tenant)
    view = metrics.load(database, "acme", MetricsQuery(30, "ALP"), now=NOW)
    f = MetricFilter.last_days(CLIENT, 30, now=NOW).with_(project="ALP")
    with tenant.connect() as conn:
        settings = MetricsSettings.load(conn, CLIENT)
        assert view.dora == dora_report(conn, f, settings)
        assert view.flow == flow_overview(conn, f)
        assert view.prs == pr_cycle_summary(conn, f, settings)
    assert view.projects == ["ALP", "BET"] and not view.empty
    assert view.flow is not None and view.flow.summary.completed > 0


def test_the_consoles_metrics_rate_by_the_configured_benchmark_year(
    tenant: Engine, database: Database, tmp_path: Path
) -> None:
    seed_delivery(tenant)
    services = ClientServices(
        database, "acme", log_dir=tmp_path, metrics_defaults=MetricsSettings(benchmark_year=2021)
    )
    view = services.metrics.load(MetricsQuery(30), now=NOW)
    assert view.dora is not None and view.dora.benchmark_year == 2021


def test_drill_downs_list_items_by_the_chosen_order_and_merged_prs(
    tenant: Engine, database: Database
) -> None:
    seed_delivery(tenant)
    query = MetricsQuery(90)
    f = MetricFilter.last_days(CLIENT, 90, now=NOW)
    with tenant.connect() as conn:
        by_done = completed_items(conn, f, order="done")
        prs = pr_cycles(conn, f, MetricsSettings.load(conn, CLIENT))
    done = metrics.drill_down(database, "acme", query, "done", now=NOW, title="Throughput")
    assert done.items == by_done and done.title == "Throughput"
    assert [i.done_at for i in done.items] == sorted(i.done_at for i in done.items)
    merged = metrics.drill_down(database, "acme", query, "prs", now=NOW)
    assert merged.prs == prs and len(prs) > 0
