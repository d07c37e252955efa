"""Metrics over HTTP: DORA and flow as `metrics … --format json` prints them, and the
Prometheus exposition read from the database."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from pulse_console import cli
from pulse_console.engine import store
from storage.db import Database
from storage.models import Integration, JobRun
from tests.api.conftest import Api, ensure_client_id
from tests.metrics.test_metrics_cli import PERIOD, wired  # noqa: F401  (the seeded tenant)

SINCE, UNTIL = "2024-03-04T00:00:00Z", "2024-03-18T00:00:00Z"


@pytest.mark.parametrize(
    ("kind", "extra"), [("dora", {}), ("flow", {"project": "A"}), ("dora", {"team": "x"})]
)
def test_metrics_are_the_cli_json(
    wired: Database,  # noqa: F811
    api: Api,
    capsys: pytest.CaptureFixture[str],
    kind: str,
    extra: dict[str, str],
) -> None:
    with api.http("viewer") as http:
        answer = http.get(
            api.path(f"/metrics/{kind}"), params={"since": SINCE, "until": UNTIL, **extra}
        )
    assert answer.status_code == 200, answer.text
    options = [part for key, value in extra.items() for part in (f"--{key}", value)]
    assert cli.main(["metrics", kind, *PERIOD, "--format", "json", *options]) == 0
    assert answer.json() == json.loads(capsys.readouterr().out)


@pytest.mark.parametrize(
    ("params", "args", "says"),
    [
        (
            {"since": SINCE, "until": "2024-03-01T00:00:00Z"},
            ["--since", "2024-03-04", "--until", "2024-03-01"],
            "empty period",
        ),
        ({"release": "NOPE-R-1"}, ["--release", "NOPE-R-1"], "no release 'NOPE-R-1' for client"),
    ],
)
def test_a_refusal_is_the_cli_line(
    wired: Database,  # noqa: F811
    api: Api,
    capsys: pytest.CaptureFixture[str],
    params: dict[str, str],
    args: list[str],
    says: str,
) -> None:
    with api.http("viewer") as http:
        answer = http.get(api.path("/metrics/dora"), params=params)
    assert cli.main(["metrics", "dora", "--client", "acme", *args]) == 2
    cli_line = capsys.readouterr().err.strip().removeprefix("pulse-console: error: ")
    assert says in cli_line
    assert (answer.status_code, answer.json()["detail"]) == (409, cli_line)


def test_a_time_without_a_zone_is_refused(api: Api) -> None:
    with api.http("viewer") as http:
        naive = http.get(api.path("/metrics/flow"), params={"since": "2024-03-04T00:00:00"})
    assert naive.status_code == 422 and naive.json()["detail"].startswith("since:")


def _add_runs(database: Database, now: datetime) -> None:
    client_id = ensure_client_id(database)
    with database.session() as session:
        integration = Integration(
            client_id=client_id, name="jira-main", type="jira", base_url="http://jira"
        )
        session.add(integration)
        session.add(Integration(client_id=client_id, name="gh", type="github", base_url="x"))
        session.flush()
        store.ensure_job(
            session, client_id, "jira-main", position=10, integration_id=integration.id
        )
        job_id = store.get_job(session, client_id, "jira-main").id
        for status, minutes_ago, seconds, records, calls, retries, waits in [
            ("FINISHED", 240, 60, 10, 3, 1, 0),
            ("FINISHED", 200, 30, 5, 2, 0, 1),
            ("FAILED", 100, 5, 0, 1, 2, 0),
        ]:
            started = now - timedelta(minutes=minutes_ago)
            session.add(
                JobRun(
                    client_id=client_id,
                    job_id=job_id,
                    trigger="schedule",
                    status=status,
                    started_at=started,
                    finished_at=started + timedelta(seconds=seconds),
                    records=records,
                    api_calls=calls,
                    retries=retries,
                    rate_limit_waits=waits,
                )
            )


def scrape(api: Api) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    with api.http("viewer") as http:
        answer = http.get("/metrics")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    return {
        (s.name, tuple(sorted((k, v) for k, v in s.labels.items() if k != "client"))): s.value
        for family in text_string_to_metric_families(answer.text)
        for s in family.samples
    }


def test_prometheus_metrics_come_from_the_tables(api: Api, database: Database) -> None:
    now = datetime.now(UTC)
    _add_runs(database, now)
    got = scrape(api)
    job = (("job", "jira-main"), ("outcome", "FINISHED"), ("source", "jira"))
    assert got[("pulse_job_runs_total", job)] == 2
    assert got[("pulse_job_run_duration_seconds_count", job)] == 2
    assert got[("pulse_job_run_duration_seconds_sum", job)] == pytest.approx(90)
    assert got[("pulse_records_loaded_total", (("job", "jira-main"), ("source", "jira")))] == 15
    assert got[("pulse_api_calls_total", (("source", "jira"),))] == 6
    assert got[("pulse_api_retries_total", (("source", "jira"),))] == 3
    assert got[("pulse_rate_limit_waits_total", (("source", "jira"),))] == 1
    jira = (("integration", "jira-main"), ("source", "jira"))
    age = got[("pulse_last_successful_sync_age_seconds", jira)]
    assert 200 * 60 - 30 - 5 <= age <= 200 * 60 + 60  # the newer success ended 199.5 min ago
    assert got[
        ("pulse_last_successful_sync_age_seconds", (("integration", "gh"), ("source", "github")))
    ] == float("inf")
    assert got[("pulse_orchestrator_leader", ())] == 0
    assert got[("pulse_job_status", (("job", "jira-main"), ("status", "PENDING")))] == 1


def test_prometheus_needs_a_token_and_shows_only_its_client(api: Api, database: Database) -> None:
    _add_runs(database, datetime.now(UTC))
    with api.http() as http:
        assert http.get("/metrics").status_code == 401
    with api.http("other") as http:
        other = http.get("/metrics").text
    assert "jira-main" not in other and 'client="globex"' in other
