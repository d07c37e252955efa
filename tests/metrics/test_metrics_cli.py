"""`pulse-console metrics dora|flow` end to end against a real database."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from pulse_console import cli
from pulse_console.commands import database as opener
from storage.db import Database
from tests.metrics.seed import Seeder

PERIOD = ["--since", "2024-03-04", "--until", "2024-03-18", "--client", "acme"]


@pytest.fixture
def wired(tenant: Engine, database: Database, monkeypatch: pytest.MonkeyPatch) -> Database:
    with tenant.begin() as conn:
        seed = Seeder(conn)
        todo = seed.step("To Do", "todo")
        done = seed.step("Done", "done")
        seed.map_status("To Do", todo)
        seed.map_status("Done", done)
        seed.item("A-1", "2024-03-04", [("2024-03-05", "Done")])
        repo = seed.repo("org/api")
        seed.pr(repo, 1, "2024-03-04", "2024-03-05", commits=["2024-03-04"])
        seed.deploy(repo, "2024-03-01")  # the previous deployment
        seed.deploy(repo, "2024-03-06")
    monkeypatch.setattr(opener, "open_configured", lambda settings, upgrade_embedded=True: database)
    return database


def test_dora_as_json(wired: Database, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["metrics", "dora", *PERIOD, "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["deployments"] == 1
    assert data["lead_time_for_changes"]["value"] == 48  # 03-04 → 03-06
    assert data["lead_time_for_changes"]["level"]["level"] == "high"
    assert len(data["weeks"]) == 2


def test_dora_as_a_table_and_csv(wired: Database, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["metrics", "dora", *PERIOD]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == [
        "metric",
        "value",
        "unit",
        "sample",
        "level",
        "benchmark",
        "2023",
    ]
    assert "lead_time_for_changes" in out
    nowhere = ["--repository", "org/none", "--format", "csv"]
    assert cli.main(["metrics", "dora", *PERIOD, *nowhere]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert (rows[0]["metric"], rows[0]["sample"]) == ("deployment_frequency", "0")


@pytest.mark.owner  # a global setting (no client): only the owner or all-clients logins write one
def test_the_config_benchmark_year_rates_the_figures_unless_the_database_sets_one(
    wired: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.toml"
    config.write_text("[metrics]\nbenchmark_year = 2021\n")
    dora = ["metrics", "dora", *PERIOD, "--config", str(config), "--format", "json"]
    assert cli.main(dora) == 0
    assert json.loads(capsys.readouterr().out)["benchmark_year"] == 2021
    with wired.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO settings (client_id, key, value)"
                " VALUES (NULL, 'metrics.benchmark_year', '2023')"
            )
        )
    assert cli.main(dora) == 0
    assert json.loads(capsys.readouterr().out)["benchmark_year"] == 2023


def test_flow_as_json_and_csv(wired: Database, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["metrics", "flow", *PERIOD, "--format", "json", "--project", "A"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["summary"]["completed"] == 1
    assert data["summary"]["lead_time_median_hours"] == 24
    assert [w["count"] for w in data["throughput_per_week"]] == [1, 0]
    assert cli.main(["metrics", "flow", *PERIOD, "--format", "csv"]) == 0
    rows = dict(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert rows["completed"] == "1"


def test_flow_table_prints_fixed_point_hours_per_item_and_in_total(
    wired: Database, tenant: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    with tenant.begin() as conn:  # 2022-03-04 → 2024-03-05 (732 days): a lead time of 17,568 h
        Seeder(conn).item("A-2", "2022-03-04", [("2024-03-05", "Done")])
    assert cli.main(["metrics", "flow", *PERIOD, "--format", "csv"]) == 0
    out = capsys.readouterr().out
    assert "e+" not in out
    rows = dict(csv.reader(io.StringIO(out)))
    assert rows["lead_time_p85_hours"] == "14936.40"  # 24 + 0.85 * (17568 - 24)
    assert rows["time_in_step_median_hours:To Do"] == "24.00"  # A-2's part in the period
    assert rows["time_in_step_total_hours:To Do"] == "48.00"  # A-1 24 h + A-2 24 h


def test_unknown_client_and_empty_period_are_refused(
    wired: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["metrics", "flow", "--client", "nobody"]) == 2
    assert "no client 'nobody'" in capsys.readouterr().err
    args = ["metrics", "flow", "--client", "acme", "--since", "2024-03-04", "--until", "2024-03-01"]
    assert cli.main(args) == 2
    assert "empty period" in capsys.readouterr().err


def test_a_bad_date_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.main(["metrics", "dora", "--since", "last tuesday"])
    assert exit_.value.code == 2


def test_refresh_rebuilds_the_status_timelines_the_flow_metrics_read(
    wired: Database, tenant: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    with tenant.begin() as conn:  # as a loader that bypasses the sync would leave it
        conn.execute(text("DELETE FROM work_item_status_spans"))
    assert cli.main(["metrics", "flow", *PERIOD, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["summary"]["completed"] == 0

    assert cli.main(["metrics", "refresh", "--client", "acme"]) == 0
    assert capsys.readouterr().out.startswith("rebuilt 2 status spans of client 'acme'")
    assert cli.main(["metrics", "flow", *PERIOD, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["summary"]["completed"] == 1


def test_a_period_of_ten_thousand_years_is_cut_to_the_data(
    wired: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    everything = ["--since", "0001-01-01", "--until", "9999-12-31", "--client", "acme"]
    assert cli.main(["metrics", "flow", *everything, "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["since"] == "2024-03-01T00:00:00+00:00"  # the first deployment's day
    assert data["until"] <= "9999"  # at most the day after today
    assert len(data["throughput_per_week"]) < 52 * 5  # weeks of the data, not of 10,000 years
    assert cli.main(["metrics", "dora", *everything, "--format", "json"]) == 0
    dora = json.loads(capsys.readouterr().out)
    assert dora["since"] == data["since"] and dora["deployments"] == 2


def test_a_period_wholly_outside_the_data_is_one_empty_day(
    wired: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    before = ["--since", "0001-01-01", "--until", "2000-01-01", "--client", "acme"]
    assert cli.main(["metrics", "flow", *before, "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["since"], data["until"]) == (
        "1999-12-31T00:00:00+00:00",
        "2000-01-01T00:00:00+00:00",
    )
    assert data["summary"]["completed"] == 0


def test_metrics_prs_lists_each_merged_pr_with_the_drill_down_numbers(
    wired: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    from datetime import UTC, datetime

    from pulse_console.services.metrics import MetricsQuery, drill_down

    assert cli.main(["metrics", "prs", *PERIOD, "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)["prs"]
    assert [(r["repository"], r["number"]) for r in rows] == [("org/api", 1)]
    # The screen's PR drill-down over the same period shows the same numbers.
    now = datetime(2024, 3, 18, 12, tzinfo=UTC)
    screen = drill_down(wired, "acme", MetricsQuery(days=14), "prs", now=now).prs
    assert len(screen) == 1
    pr = screen[0]
    assert rows[0]["lead_time_hours"] == pr.cycle_hours == 48
    assert rows[0]["coding_hours"] == pr.coding_hours
    assert rows[0]["deploy_hours"] == pr.deploy_hours
    assert rows[0]["deployment_id"] == pr.deployment_id is not None
    assert rows[0]["deployment_finished_at"] == pr.deployed_at.isoformat()
    assert cli.main(["metrics", "prs", *PERIOD, "--format", "csv"]) == 0
    table = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert table[0][:2] == ["repository", "number"] and table[1][:2] == ["org/api", "1"]
    assert cli.main(["metrics", "prs", *PERIOD, "--repository", "org/none"]) == 0
    assert len(capsys.readouterr().out.strip().splitlines()) == 2  # header and rule only


def test_cli_and_console_default_to_the_same_period(
    wired: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    from pulse_console.services.metrics import MetricsQuery

    assert cli.main(["metrics", "dora", "--client", "acme", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    since, until = (datetime_of(data[k]) for k in ("since", "until"))
    assert (until - since).days == MetricsQuery().days
    assert until.hour == until.minute == 0  # whole days, today excluded


def datetime_of(text: str) -> Any:
    from datetime import datetime

    return datetime.fromisoformat(text)
