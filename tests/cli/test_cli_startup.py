"""A command that does not open the console loads neither Textual nor the sandbox."""

from __future__ import annotations

import subprocess
import sys


def loaded_after(code: str) -> set[str]:
    probe = f"{code}; import sys; print(' '.join(sys.modules))"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    return set(done.stdout.split())


def test_building_the_cli_imports_neither_textual_nor_the_sandbox() -> None:
    modules = loaded_after("from pulse_console.cli import build_parser; build_parser()")
    assert "textual" not in modules
    assert "connectors.sandbox.org" not in modules
    assert "connectors.sandbox.jira" not in modules


def test_importing_the_cli_loads_no_database_or_settings_code() -> None:
    modules = loaded_after("import pulse_console.cli")
    assert not {"sqlalchemy", "pydantic", "textual"} & modules
