"""connectors/ talks to the outside world only: it never imports storage or the app."""

from __future__ import annotations

import ast
from pathlib import Path

import connectors

FORBIDDEN = ("storage", "pulse_console")


def test_connectors_never_import_storage_or_the_application() -> None:
    root = Path(connectors.__file__).parent
    offenders: list[str] = []
    for path in root.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [
                f"{path.relative_to(root)}: {n}" for n in names if n.split(".")[0] in FORBIDDEN
            ]
    assert offenders == []
