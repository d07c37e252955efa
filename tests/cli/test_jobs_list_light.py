"""`jobs list` answers on its light path exactly what the engine would, and hands over to
the engine whenever only the engine can answer (a job to create, an unknown client)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from pulse_console import cli
from pulse_console.commands import jobs as jobs_commands
from pulse_console.config_lookup import connection_target
from pulse_console.engine.job_view import JOBS_BEHIND_SQL
from pulse_console.pipelines.registry import PIPELINES
from storage.testing import schema_url


def listing_args(url: str, *extra: str) -> argparse.Namespace:
    return cli.build_parser().parse_args(
        ["jobs", "list", "--database-url", url, "--client", "acme", *extra]
    )


def light(url: str, capsys: pytest.CaptureFixture[str], *extra: str) -> str | None:
    code = jobs_commands.quick_jobs_list(listing_args(url, *extra))
    out = capsys.readouterr().out
    return None if code is None else out


def full(url: str, capsys: pytest.CaptureFixture[str], *extra: str) -> str:
    args = listing_args(url, *extra)
    assert jobs_commands.run_jobs_command(args, cli._settings(args)) == 0
    return capsys.readouterr().out


def add_integration(engine: Engine, name: str, kind: str, *, active: bool = True) -> None:
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO integrations (id, client_id, name, type, base_url, active)"
                " SELECT max(id) + 1, 1, :n, :t, 'https://example.test', :a FROM integrations"
            ),
            {"n": name, "t": kind, "a": active},
        )


def behind(engine: Engine) -> bool:
    with engine.connect() as conn:
        return bool(
            conn.exec_driver_sql(
                JOBS_BEHIND_SQL, {"client_id": 1, "order": list(PIPELINES)}
            ).scalar_one()
        )


def test_the_light_listing_prints_what_the_engine_prints(
    tenant: Engine, pg_url: str, capsys: pytest.CaptureFixture[str], isolated_home: Path
) -> None:
    url = schema_url(pg_url, tenant)
    add_integration(tenant, "gh", "github")
    add_integration(tenant, "Zeta", "jira")
    assert light(url, capsys) is None  # three integrations without jobs: the engine's turn
    engine_text = full(url, capsys)
    assert [line.split()[0] for line in engine_text.splitlines()[1:]] == ["Zeta", "jira", "gh"]
    with tenant.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO job_runs (client_id, job_id, trigger, status, records)"
                " SELECT 1, id, 'manual', 'FINISHED', 7 FROM jobs WHERE name = 'gh'"
            )
        )
    assert light(url, capsys) == full(url, capsys) == engine_text
    assert light(url, capsys, "--json") == full(url, capsys, "--json")
    assert [job["name"] for job in json.loads(full(url, capsys, "--json"))] == [
        "Zeta",
        "jira",
        "gh",
    ]


def test_an_integration_waiting_for_its_job_sends_the_listing_to_the_engine(
    tenant: Engine, pg_url: str, capsys: pytest.CaptureFixture[str], isolated_home: Path
) -> None:
    url = schema_url(pg_url, tenant)
    full(url, capsys)
    assert not behind(tenant)
    add_integration(tenant, "jira-two", "jira")
    assert behind(tenant) and light(url, capsys) is None
    assert "jira-two" in full(url, capsys)  # the engine created its job…
    assert not behind(tenant)
    assert "jira-two" in (light(url, capsys) or "")  # …and the light path lists it
    with tenant.begin() as conn:  # deactivated while its job waits: the engine retires it
        conn.execute(text("UPDATE jobs SET status = 'PENDING' WHERE name = 'jira-two'"))
        conn.execute(text("UPDATE integrations SET active = false WHERE name = 'jira-two'"))
    assert behind(tenant)
    assert "jira-two" not in full(url, capsys)
    assert not behind(tenant)


def test_an_unknown_client_is_refused_by_the_engine_in_one_line(
    tenant: Engine, pg_url: str, capsys: pytest.CaptureFixture[str], isolated_home: Path
) -> None:
    url = schema_url(pg_url, tenant)
    assert cli.main(["jobs", "list", "--database-url", url, "--client", "acme-typo"]) == 2
    err = capsys.readouterr().err
    assert "there is no client 'acme-typo'" in err and len(err.splitlines()) == 1


def test_the_connection_is_looked_up_as_the_settings_model_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, isolated_home: Path
) -> None:
    config = tmp_path / "config.toml"
    config.write_text('database_url = "postgresql+psycopg://file@h/db"\nclient = "from-file"\n')
    found = connection_target(config, None, None)
    assert found is not None and (found.conninfo, found.client) == (
        "postgresql://file@h/db",
        "from-file",
    )
    monkeypatch.setenv("pulse_client", "from-env")  # pydantic-settings ignores the case
    found = connection_target(config, None, None)
    assert found is not None and found.client == "from-env"
    found = connection_target(config, "postgres://flag@h/db", "from-flag")
    assert found is not None and (found.conninfo, found.client) == (
        "postgresql://flag@h/db",
        "from-flag",
    )
    # only the settings model may judge these: the listing takes the full path
    assert connection_target(config, "", None) is None  # embedded
    assert connection_target(config, "mysql://x", None) is None
    assert connection_target(config, None, "../x") is None
    assert connection_target(tmp_path / "missing.toml", None, None) is None
    config.write_text("client = [")
    assert connection_target(config, "postgresql://h/db", None) is None
