"""Locating the shared recorded payloads (``shared/fixtures`` beside the checkout)."""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


def fixtures_root() -> Path:
    env = os.environ.get("PULSE_FIXTURES")
    if env:
        return Path(env)
    for parent in Path(__file__).resolve().parents:
        for candidate in (parent / "shared" / "fixtures", parent / "fixtures"):
            if (candidate / "devlake" / "jira").is_dir():
                return candidate
    pytest.skip("shared fixtures not found (set PULSE_FIXTURES)")


def openapi_example(name: str) -> Any:
    path = fixtures_root() / "api_examples" / "jira_openapi_examples" / name
    return json.loads(path.read_text(encoding="utf-8"))


def raw_table_rows(name: str) -> Iterator[tuple[str, Any]]:
    """(request url, decoded JSON body) for each row of a DevLake raw table CSV."""
    path = fixtures_root() / "devlake" / "jira" / "e2e" / "raw_tables" / name
    csv.field_size_limit(1 << 30)
    # Some exports start with a blank line before the header.
    text = path.read_text(encoding="utf-8").lstrip("\r\n")
    for row in csv.DictReader(io.StringIO(text, newline="")):
        yield row["url"], json.loads(row["data"])
