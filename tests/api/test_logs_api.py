"""Logs, log files, integrations and health over HTTP: the console's services behind them."""

from __future__ import annotations

import io
import os
import time
import zipfile
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from pulse_console.services.integrations import IntegrationDraft, save
from storage.db import Database
from storage.models import AuditLog, LogEntry
from tests.api.conftest import CLIENT, OTHER, Api, ensure_client_id

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def add_logs(database: Database, count: int) -> None:
    client_id = ensure_client_id(database)
    with database.session() as session:
        for n in range(count):
            session.add(
                LogEntry(
                    client_id=client_id,
                    ts=T0 + timedelta(seconds=n),
                    level="ERROR" if n % 3 == 0 else "INFO",
                    job="tickets" if n % 2 == 0 else "code",
                    run_id=1,
                    logger="pulse.job",
                    message=f"record {n} loaded",
                    extra={},
                )
            )


def test_logs_filter_like_the_console_and_page_by_cursor(api: Api, database: Database) -> None:
    add_logs(database, 30)
    with api.http("viewer") as http:
        newest = http.get(api.path("/logs"), params={"limit": 10}).json()
        older = http.get(api.path("/logs"), params={"limit": 10, "before": newest["older"]})
        errors = http.get(api.path("/logs"), params={"level": "error", "job": "tickets"}).json()
        query = http.get(api.path("/logs"), params={"q": "level:error job:tickets"}).json()
        text = http.get(api.path("/logs"), params={"text": "record 29"}).json()
        bad_cursor = http.get(api.path("/logs"), params={"before": "yesterday"})
        bad_level = http.get(api.path("/logs"), params={"level": "LOUD"})
    assert [r["message"] for r in newest["records"]][-1] == "record 29 loaded"
    assert newest["more_before"] is True and newest["newer"] is None
    page = older.json()
    assert [r["message"] for r in page["records"]] == [f"record {n} loaded" for n in range(10, 20)]
    assert page["newer"] is not None
    assert {(r["level"], r["job"]) for r in errors["records"]} == {("ERROR", "tickets")}
    assert [r["id"] for r in query["records"]] == [r["id"] for r in errors["records"]]
    assert len(errors["records"]) == 5  # 0, 6, 12, 18, 24
    assert [r["message"] for r in text["records"]] == ["record 29 loaded"]
    assert bad_cursor.status_code == 422 and bad_cursor.json()["detail"].startswith("before:")
    assert bad_level.status_code == 422 and "unknown level 'LOUD'" in bad_level.json()["detail"]


def test_log_files_list_download_clear_delete_and_cleanup(api: Api, database: Database) -> None:
    own = api.log_dir / f"jobs-{CLIENT}.jsonl"
    own.write_text('{"message": "hello"}\n')
    rotated = api.log_dir / f"jobs-{CLIENT}.jsonl.1"
    rotated.write_text("old\n")
    old = time.time() - 10 * 86400
    os.utime(rotated, (old, old))
    (api.log_dir / f"jobs-{OTHER}.jsonl").write_text("not yours\n")
    with api.http("viewer") as http:
        names = [f["name"] for f in http.get(api.path("/log-files")).json()]
    assert sorted(names) == [own.name, rotated.name]  # never another client's job log
    with api.http("user") as http:
        download = http.get(api.path("/log-files/download"), params={"name": own.name})
        other = http.get(api.path("/log-files/download"), params={"name": f"jobs-{OTHER}.jsonl"})
    assert download.status_code == 200
    assert download.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(download.content)) as archive:
        assert archive.namelist() == [own.name]
        assert archive.read(own.name) == b'{"message": "hello"}\n'
    assert other.status_code == 404
    with api.http("admin") as http:
        cleared = http.post(api.path(f"/log-files/{own.name}/clear"))
        cleanup = http.post(api.path("/log-files/cleanup"), params={"older_than_days": 5})
        deleted = http.delete(api.path(f"/log-files/{own.name}"))
        gone = http.delete(api.path(f"/log-files/{own.name}"))
    assert cleared.json() == {"cleared": [own.name]}
    assert cleanup.json() == {"deleted": [rotated.name]}
    assert deleted.json() == {"deleted": [own.name]}
    assert not own.exists() and not rotated.exists()
    assert (api.log_dir / f"jobs-{OTHER}.jsonl").exists()
    assert gone.status_code == 404
    with database.session() as session:
        actions = session.execute(
            select(AuditLog.action).where(AuditLog.actor == "api:admin").order_by(AuditLog.id)
        ).scalars()
        assert "log_files.delete" in list(actions)


def test_integrations_list_never_shows_a_token_and_a_test_is_recorded(
    api: Api, database: Database
) -> None:
    draft = IntegrationDraft(
        "jira-main", "jira", "http://127.0.0.1:9", "ops@example.com", "s3cret-token-value"
    )
    save(database, CLIENT, draft, api.secrets, actor="t")  # type: ignore[arg-type]
    with api.http("viewer") as http:
        listed = http.get(api.path("/integrations"))
    assert listed.status_code == 200
    assert [(i["name"], i["has_token"]) for i in listed.json()] == [("jira-main", True)]
    assert "s3cret-token-value" not in listed.text
    with api.http("user") as http:  # testing an integration is managing it: admin
        assert http.post(api.path("/integrations/jira-main/test")).status_code == 403
    with api.http("admin") as http:
        tested = http.post(api.path("/integrations/jira-main/test"))
        missing = http.post(api.path("/integrations/nope/test"))
    assert tested.status_code == 200
    assert tested.json()["ok"] is False  # nothing listens on port 9
    assert missing.status_code == 404
    with api.http("viewer") as http:
        again = http.get(api.path("/integrations")).json()
    assert again[0]["last_test_ok"] is False


def test_health_lists_the_database_the_log_disk_and_the_orchestrator(api: Api) -> None:
    with api.http("viewer") as http:
        health = http.get(api.path("/health")).json()
    components = [c["component"] for c in health["checks"]]
    assert components[0] == "Database" and "Log disk" in components
    assert health["checks"][-1] == {
        "component": "Orchestrator",
        "state": "WARN",
        "detail": "idle",
    }
