"""Log files: tail without reading whole, sparse line index, export/delete/clear audited."""

from __future__ import annotations

import os
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pulse_console.services import audit, log_files
from pulse_console.services.log_files import STRIDE, LogFile
from storage.db import Database
from storage.testing import seed_tenant

NOW = datetime(2026, 1, 15, 9, 30, tzinfo=UTC)


def write_lines(path: Path, count: int, *, final_newline: bool = True) -> None:
    body = "\n".join(f'{{"n": {i}, "msg": "line {i}"}}' for i in range(count))
    path.write_text(body + ("\n" if final_newline else ""))


@pytest.mark.parametrize("final_newline", [True, False])
def test_index_finds_every_line(tmp_path: Path, final_newline: bool) -> None:
    path = tmp_path / "a.log"
    count = STRIDE * 5 + 17
    write_lines(path, count, final_newline=final_newline)
    lf = LogFile(path)
    assert lf.build_index() == count
    for start in (0, 1, STRIDE - 1, STRIDE, STRIDE * 3 + 5, count - 3):
        got = lf.lines(start, 3)
        assert got[0] == f'{{"n": {start}, "msg": "line {start}"}}'
    assert lf.lines(count - 1, 10) == [f'{{"n": {count - 1}, "msg": "line {count - 1}"}}']


def test_tail_reads_the_last_lines_without_an_index(tmp_path: Path) -> None:
    path = tmp_path / "a.log"
    write_lines(path, 10_000)
    tail = LogFile(path).tail(3)
    assert tail == [f'{{"n": {i}, "msg": "line {i}"}}' for i in (9997, 9998, 9999)]
    assert LogFile(path).tail(50_000)[0] == '{"n": 0, "msg": "line 0"}'


def test_empty_file_has_no_lines(tmp_path: Path) -> None:
    path = tmp_path / "empty.log"
    path.write_bytes(b"")
    lf = LogFile(path)
    assert lf.tail(5) == [] and lf.build_index() == 0


def test_files_are_listed_exported_cleared_and_deleted_with_audit(
    database: Database, tmp_path: Path
) -> None:
    seed_tenant(database.engine)  # client acme: audit rows name an existing client
    logs_dir = tmp_path / "logs"
    logs_dir.mkdir()
    write_lines(logs_dir / "pulse.log", 10)
    write_lines(logs_dir / "pulse.log.1", 10)
    (logs_dir / "notes.md").write_text("not a log")
    old = (NOW - timedelta(days=40)).timestamp()
    os.utime(logs_dir / "pulse.log.1", (old, old))
    assert {f.name for f in log_files.list_files(logs_dir, "acme")} == {"pulse.log", "pulse.log.1"}

    dest = tmp_path / "export.zip"
    log_files.export_zip(database, "acme", logs_dir, [logs_dir / "pulse.log"], dest, actor="ada")
    assert zipfile.ZipFile(dest).namelist() == ["pulse.log"]

    log_files.clear_file(database, "acme", logs_dir, logs_dir / "pulse.log", actor="ada")
    assert (logs_dir / "pulse.log").stat().st_size == 0

    assert [f.name for f in log_files.older_than(logs_dir, "acme", 30, NOW)] == ["pulse.log.1"]
    removed = log_files.delete_older_than(database, "acme", logs_dir, 30, NOW, actor="ada")
    assert removed == ["pulse.log.1"]

    log_files.delete_file(database, "acme", logs_dir, logs_dir / "pulse.log", actor="ada")
    assert log_files.list_files(logs_dir, "acme") == []
    actions = [a.action for a in audit.recent(database, "acme") if not a.is_row_change]
    assert actions == [
        "log_files.delete",
        "log_files.delete_older_than",
        "log_files.clear",
        "log_files.export",
    ]


def test_paths_outside_the_log_dir_are_refused(database: Database, tmp_path: Path) -> None:
    (tmp_path / "logs").mkdir()
    secret = tmp_path / "config.toml"
    secret.write_text("x")
    with pytest.raises(ValueError):
        log_files.delete_file(database, "acme", tmp_path / "logs", secret, actor="ada")
    assert secret.exists()


def test_another_clients_job_log_is_neither_listed_nor_touched(
    database: Database, tmp_path: Path
) -> None:
    seed_tenant(database.engine)  # client acme: audit rows name an existing client
    logs_dir = tmp_path / "logs"
    logs_dir.mkdir()
    for name in (
        "jobs-acme.jsonl",
        "jobs-acme.jsonl.1",
        "jobs-globex.jsonl",
        "jobs-acme-two.jsonl",
    ):
        write_lines(logs_dir / name, 3)
    listed = {f.name for f in log_files.list_files(logs_dir, "acme")}
    assert listed == {"jobs-acme.jsonl", "jobs-acme.jsonl.1"}
    for other in ("jobs-globex.jsonl", "jobs-acme-two.jsonl"):
        with pytest.raises(ValueError):
            log_files.delete_file(database, "acme", logs_dir, logs_dir / other, actor="ada")
        with pytest.raises(ValueError):
            log_files.clear_file(database, "acme", logs_dir, logs_dir / other, actor="ada")
        assert (logs_dir / other).stat().st_size > 0
    old = (NOW - timedelta(days=40)).timestamp()
    os.utime(logs_dir / "jobs-globex.jsonl", (old, old))
    assert log_files.delete_older_than(database, "acme", logs_dir, 30, NOW, actor="ada") == []
    assert (logs_dir / "jobs-globex.jsonl").exists()
