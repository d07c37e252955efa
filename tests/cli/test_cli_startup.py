"""A command that does not open the console loads neither Textual nor the sandbox."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlalchemy import Engine

from pulse_console.cli import main
from storage.testing import schema_url


def loaded_after(code: str) -> set[str]:
    probe = f"{code}; import sys; print(' '.join(sys.modules))"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    return set(done.stdout.split())


def test_building_the_cli_imports_neither_textual_nor_the_sandbox() -> None:
    modules = loaded_after("from pulse_console.cli import build_parser; build_parser()")
    assert not {"textual", "sqlalchemy", "httpx", "alembic", "pydantic"} & modules
    assert "connectors.sandbox.org" not in modules
    assert "connectors.sandbox.jira" not in modules


def test_importing_the_cli_loads_no_database_or_settings_code() -> None:
    modules = loaded_after("import pulse_console.cli")
    assert not {"sqlalchemy", "pydantic", "textual"} & modules


def test_loading_settings_and_opening_a_database_leave_alembic_and_httpx_unloaded() -> None:
    """What `jobs list` loads before it queries: config, then the database module."""
    modules = loaded_after(
        "from pulse_console.config import load_settings; import storage.db;"
        " import pulse_console.commands.jobs"
    )
    assert not {"alembic", "httpx", "textual"} & modules


def test_jobs_list_loads_neither_sqlalchemy_nor_the_settings_model_nor_textual(
    tenant: Engine, pg_url: str, tmp_path: Path
) -> None:
    """The light path: a listing of a client whose jobs exist imports psycopg only."""
    url = schema_url(pg_url, tenant)
    argv = ["jobs", "list", "--database-url", url, "--client", "acme", "--data-dir", str(tmp_path)]
    assert main(argv) == 0  # the full path gives the new integration its job first
    code = f"from pulse_console.cli import main; code = main({argv!r})"
    modules = loaded_after(code)
    assert not {"sqlalchemy", "pydantic_settings", "pydantic", "textual", "httpx"} & modules
    assert "storage.models" not in modules and "pulse_console.engine.orchestrator" not in modules
    assert "pulse_console.engine.quick_listing" in modules  # it did list, on the light path
