"""The sandbox served by another process, for benchmarks that must not share their CPU (and
Python's global lock) with the simulators, as they never do with a real Jira or GitHub."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

_ROOT = Path(__file__).resolve().parents[2]
_NAMES = {"Jira": "jira", "GitHub": "github"}


@contextmanager
def sandbox_process(seed: int, size: str, scenario: dict[str, Any]) -> Iterator[dict[str, str]]:
    """``sandbox serve`` of the seed's org (fixed clock) with the fault ``scenario`` (the fault
    file's content, e.g. ``{"latency": {"fixed_ms": 150}}``), stopped on exit; → the base
    URLs by source (``jira``, ``github``)."""
    with tempfile.TemporaryDirectory() as tmp:
        faults = Path(tmp) / "faults.json"
        faults.write_text(json.dumps(scenario), encoding="utf-8")
        command = [sys.executable, "-m", "connectors.sandbox", "--seed", str(seed), "--size"]
        command += [size, "--fixed-clock", "--scenario", str(faults)]
        server = subprocess.Popen(
            command, cwd=_ROOT, stdout=subprocess.PIPE, text=True, env={**os.environ}
        )
        try:
            assert server.stdout is not None
            urls: dict[str, str] = {}
            for line in server.stdout:
                words = line.split()
                if words and words[0] in _NAMES:
                    urls[_NAMES[words[0]]] = words[1]
                if len(urls) == len(_NAMES):
                    break
            else:
                raise RuntimeError("the sandbox server did not start")
            yield urls
        finally:
            server.terminate()
            server.wait(timeout=30)
