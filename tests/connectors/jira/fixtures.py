"""Reading the shared recorded Jira payloads (located by `tests.fixtures_path`)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

from tests.fixtures_path import fixtures_root


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
