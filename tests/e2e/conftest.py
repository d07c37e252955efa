"""The real `pulse-console` binary on the test database's scratch schema, in a tmux pane.

The console gets a home, config and data dir of its own under tmp_path (never the user's)
and the scratch schema through the URL's `options=-csearch_path=…`, so it sees exactly the
rows the test sees.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, make_url, text

from storage.db import Database
from tests.e2e.tmux import TMUX, TmuxTerminal

BINARY = Path(sys.executable).with_name("pulse-console")


@dataclass
class Console:
    """How to run the binary against this test's schema, and what it left in the database."""

    url: str
    home: Path
    database: Database

    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    @property
    def env(self) -> dict[str, str]:
        return {
            "HOME": str(self.home),
            "XDG_CONFIG_HOME": str(self.home / "config"),
            "XDG_DATA_HOME": str(self.home / "share"),
            "TZ": "UTC",
        }

    def argv(self, *args: str) -> list[str]:
        return [
            str(BINARY),
            *args,
            "--data-dir",
            str(self.data_dir),
            "--database-url",
            self.url,
        ]

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """A one-shot command (e.g. `orchestrator pause`) with the same settings."""
        return subprocess.run(
            self.argv(*args),
            env={"PATH": "/usr/bin:/bin", **self.env},
            cwd=self.home,
            capture_output=True,
            text=True,
            timeout=60,
        )

    def rows(self, sql: str, **params: Any) -> list[Any]:
        with self.database.engine.connect() as conn:
            return list(conn.execute(text(sql), params))

    def crash_reports(self) -> list[Path]:
        return sorted((self.data_dir / "crash").glob("*")) if self.data_dir.exists() else []


@pytest.fixture
def console(pg_url: str, engine: Engine, tmp_path: Path) -> Console:
    with engine.connect() as conn:
        schema = conn.execute(text("SELECT current_schema()")).scalar_one()
    url = make_url(pg_url).update_query_dict({"options": f"-csearch_path={schema}"})
    home = tmp_path / "home"
    home.mkdir()
    return Console(url.render_as_string(hide_password=False), home, Database(engine, False))


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[TmuxTerminal]:
    if TMUX is None:
        pytest.skip("tmux is not installed: the end-to-end console tests drive it")
    term = TmuxTerminal(tmp_path)
    try:
        yield term
    finally:
        term.close()
