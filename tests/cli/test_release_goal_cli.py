"""`pulse-console metrics dora|flow|prs --release/--goal` end to end, on the hand-computed
account of `tests.metrics.plans_seed` (figures in tests/metrics/test_release_goal_dora.py's
docstring), and an unknown release or goal refused in one line."""

from __future__ import annotations

import csv
import io
import json

import pytest
from sqlalchemy import Engine

from pulse_console import cli
from pulse_console.commands import database as opener
from storage.db import Database
from tests.metrics.plans_seed import GOAL, RELEASE, seed_account
from tests.metrics.seed import Seeder

PERIOD = ["--since", "2024-03-04", "--until", "2024-03-18", "--client", "acme"]


@pytest.fixture
def wired(tenant: Engine, database: Database, monkeypatch: pytest.MonkeyPatch) -> Database:
    with tenant.begin() as conn:
        seed_account(conn, Seeder(conn))
    monkeypatch.setattr(opener, "open_configured", lambda settings, upgrade_embedded=True: database)
    return database


def dora(capsys: pytest.CaptureFixture[str], *scope: str) -> dict[str, object]:
    assert cli.main(["metrics", "dora", *PERIOD, *scope, "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    return {
        "deployments": data["deployments"],
        "lead": data["lead_time_for_changes"]["value"],
        "restore": data["time_to_restore"]["value"],
    }


def test_dora_takes_a_release_and_a_goal(
    wired: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    assert dora(capsys) == {"deployments": 3, "lead": 60, "restore": 5}
    assert dora(capsys, "--release", RELEASE) == {"deployments": 2, "lead": 48, "restore": 6}
    assert dora(capsys, "--goal", GOAL) == {"deployments": 2, "lead": 36, "restore": 4}


def test_prs_lists_only_the_prs_of_the_release(
    wired: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["metrics", "prs", *PERIOD, "--release", RELEASE, "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert sorted(r["number"] for r in rows) == ["1", "2"]
    assert cli.main(["metrics", "prs", *PERIOD, "--goal", GOAL, "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert sorted(r["number"] for r in rows) == ["1", "3"]


def test_flow_takes_a_goal(wired: Database, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["metrics", "flow", *PERIOD, "--goal", GOAL, "--format", "json"]) == 0
    summary = json.loads(capsys.readouterr().out)["summary"]
    assert (summary["completed"], summary["lead_time_median_hours"]) == (2, 60)


@pytest.mark.parametrize("kind", ["dora", "flow", "prs"])
def test_an_unknown_release_or_goal_is_refused_in_one_line(
    wired: Database, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    assert cli.main(["metrics", kind, *PERIOD, "--release", "APAY-R-404"]) == 2
    out = capsys.readouterr()
    assert out.out == ""
    assert out.err.strip().splitlines() == [out.err.strip()]
    assert "no release 'APAY-R-404' for client 'acme'" in out.err
    assert cli.main(["metrics", kind, *PERIOD, "--release", RELEASE, "--goal", "G-9"]) == 2
    assert "no goal 'G-9' for client 'acme'" in capsys.readouterr().err
