"""metrics → storage only: metric code never imports connectors, pipelines, engine or TUI."""

from __future__ import annotations

import ast
from pathlib import Path

import pulse_console.metrics

FORBIDDEN = ("connectors", "pulse_console.pipelines", "pulse_console.engine", "pulse_console.tui")


def test_metrics_import_only_storage() -> None:
    root = Path(pulse_console.metrics.__file__).parent
    offenders: list[str] = []
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.startswith(FORBIDDEN)]
    assert offenders == []
