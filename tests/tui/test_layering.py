"""The TUI never talks SQL or HTTP itself: it imports services and ports, not drivers
or storage (screens reach the database only through `ctx.services`)."""

from __future__ import annotations

import ast
from pathlib import Path

import pulse_console.tui

FORBIDDEN = ("sqlalchemy", "psycopg", "httpx", "storage")


def test_tui_never_imports_database_or_http_libraries() -> None:
    root = Path(pulse_console.tui.__file__).parent
    offenders: list[str] = []
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [
                f"{path.relative_to(root)}: {name}"
                for name in names
                if any(name == f or name.startswith(f + ".") for f in FORBIDDEN)
            ]
    assert offenders == []
