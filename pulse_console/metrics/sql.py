"""SQL fragments shared by every metric, so each definition exists exactly once.

**Median.** Every median in Pulse Console is `percentile_cont(0.5)`: the middle value of an
odd count, the mean of the two middle values of an even count (the textbook median; DORA's
reports speak of "median" without qualification, dora.dev/guides/dora-metrics-four-keys).
Apache DevLake's Grafana dashboards take the *lower* median instead (the largest value whose
`percent_rank()` is ≤ 0.5, devlake.apache.org/docs/Metrics/LeadTimeForChanges); the two
agree on odd counts and differ on even ones.

**Durations** are reported in hours (float). A negative span (a comment dated before the PR
was opened, a commit authored after it) is not a measurement and becomes NULL, as in
DevLake's `computeTimeSpan`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, text


def median(expr: str) -> str:
    return f"percentile_cont(0.5) WITHIN GROUP (ORDER BY {expr})"


def hours(start: str, end: str) -> str:
    """Hours from `start` to `end`; NULL when either is NULL or the span is negative."""
    return f"(CASE WHEN {end} >= {start} THEN extract(epoch FROM ({end}) - ({start})) / 3600.0 END)"


# Planner settings for metric statements (see `without_jit`).
_SETTINGS = {"jit": "off", "work_mem": "64MB"}


@contextmanager
def without_jit(conn: Connection) -> Iterator[None]:
    """Run metric statements with PostgreSQL's JIT off and more sort memory, for this
    transaction only.

    Planner estimates over CTE chains run into the millions of rows, which switches JIT
    compilation on; compiling then costs more than executing (0.8 to 1.7 s of a 2 s statement
    on the large sandbox organisation, for ~0.3 s of real work). The default 4 MB work_mem
    sends the timeline's sorts (tens of MB) to disk. The previous values are put back
    afterwards so the caller's transaction is left as it was. Outside a transaction
    (autocommit) a setting does not outlive its own statement: harmless, just no effect.
    """
    names = list(_SETTINGS)
    before = (
        conn.execute(
            text("SELECT current_setting(n) FROM unnest(CAST(:n AS text[])) n"), {"n": names}
        )
        .scalars()
        .all()
    )
    _set(conn, _SETTINGS)
    yield  # on an error the transaction is failing, and its rollback undoes the settings
    _set(conn, dict(zip(names, before, strict=True)))


def _set(conn: Connection, values: dict[str, str]) -> None:
    conn.execute(
        text(
            "SELECT set_config(n, v, true)"
            " FROM unnest(CAST(:n AS text[]), CAST(:v AS text[])) x(n, v)"
        ),
        {"n": list(values), "v": list(values.values())},
    )


def temp_table(
    conn: Connection, name: str, select: str, params: dict[str, Any], analyze: Sequence[str]
) -> None:
    """`CREATE TEMP TABLE name AS select`, then ANALYZE the `analyze` columns (the keys later
    statements join on), so those statements are planned from real row counts and key
    distributions: an un-analyzed temp table is guessed at, badly. Only the keys, because
    analyzing every column of a 90,000-row table costs more than the statement it helps."""
    conn.execute(text(f"CREATE TEMP TABLE {name} AS {select}"), params)
    if analyze:
        conn.execute(text(f"ANALYZE {name} ({', '.join(analyze)})"))


# A chain of CTEs as (name, body) pairs, in dependency order.
Parts = tuple[tuple[str, str], ...]


def ctes(parts: Parts, stored: Mapping[str, str] | None = None) -> str:
    """Render `parts` as the body of a WITH clause. A name in `stored` is read from that
    (temporary) table instead of being computed, so a chain can be computed once into
    tables and then queried many times under the same names. PostgreSQL skips a CTE no
    statement references, so callers may pass the whole chain."""
    stored = stored or {}
    return ",".join(
        f"\n{name} AS (SELECT * FROM {stored[name]})" if name in stored else f"\n{name} AS ({body})"
        for name, body in parts
    )
