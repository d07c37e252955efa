"""Compute a CTE chain once into temporary tables and run several statements over it.

A report (DORA's totals and weekly series, the PR breakdown, the flow overview) asks many
questions of the same intermediate results. Written as one CTE chain per statement, each
statement recomputes the chain; a snapshot computes the named parts once, in order, each
into a temp table (its join keys analyzed), and later statements read them under the same
CTE names (see `sql.ctes`). The tables live until the `with` block ends and belong to this
connection's session only.

A snapshot is keyed by everything its parts depend on. A statement that asks for a
snapshot while one with the same key and parts is open reuses it (so `delivery_overview`
computes the delivery chain once for DORA and the PR breakdown); while a different one is
open it gets none and computes its chain inline, which gives the same numbers.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text

from pulse_console.metrics.sql import Parts, ctes, temp_table, without_jit

_OPEN = "pulse_metrics_snapshot"  # key in Connection.info (one DB session)


@dataclass(frozen=True)
class _Open:
    key: Hashable
    stored: Mapping[str, str]


@contextmanager
def snapshot(
    conn: Connection,
    key: Hashable,
    parts: Parts,
    names: Mapping[str, Sequence[str]],
    params: dict[str, Any],
    *,
    build: bool = True,
) -> Iterator[Mapping[str, str]]:
    """Yield {part name: temp table} for `names` (computed in this order; each with the
    columns to analyze, see `sql.temp_table`) to pass to `ctes`.

    `build=False` is for a caller with a single statement: it reuses an open snapshot but
    never makes one (the tables would cost more than they save), and gets {} instead.
    """
    with without_jit(conn):
        open_ = conn.info.get(_OPEN)
        if open_ is not None or not build:
            reusable = (
                open_ is not None and open_.key == key and all(n in open_.stored for n in names)
            )
            yield open_.stored if open_ is not None and reusable else {}
            return
        stored: dict[str, str] = {}
        for name, keys in names.items():
            table = f"pg_temp._snap_{name}"
            select = f"WITH {ctes(parts, stored)} SELECT * FROM {name}"
            temp_table(conn, table, select, params, keys)
            stored[name] = table
        conn.info[_OPEN] = _Open(key, stored)
        try:
            yield stored
        except BaseException:
            # The transaction is failing: its rollback drops the tables with it.
            conn.info.pop(_OPEN, None)
            raise
        conn.info.pop(_OPEN, None)
        conn.execute(text(f"DROP TABLE IF EXISTS {', '.join(stored.values())}"))


def key_of(params: Mapping[str, Any]) -> str:
    """A snapshot key from the bind parameters its parts are computed with."""
    return repr(sorted((k, repr(v)) for k, v in params.items()))
