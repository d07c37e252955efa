"""Bulk idempotent upsert: one INSERT … SELECT FROM unnest(<one array per column>) … ON
CONFLICT, or COPY into a temporary table first for big batches.

Every pipeline loads through `upsert`. A row whose values did not change is not rewritten
(`… DO UPDATE … WHERE (target) IS DISTINCT FROM (excluded)`), which keeps re-syncs cheap and
leaves no dead tuples behind; the result says how many rows were inserted, updated and left
unchanged. Statement-per-row inserts and `insert().values(<many dicts>)` are several times
slower than COPY here, so neither is used. A page-sized batch goes as one statement whose
parameters are the columns as arrays (binary): one round trip, where the temporary table
took five (create, COPY, insert, ids, drop). Round trips are what a sync's writer waits for,
and after each one it must win the GIL back from the fetching threads.
"""

from __future__ import annotations

import functools
import itertools
import json
import operator
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from psycopg import sql
from psycopg.types.json import Jsonb
from sqlalchemy import Connection, Table, UniqueConstraint
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase

_temp_names = itertools.count()
_encode_json = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


class JsonText(str):
    """A JSONB value already encoded as JSON text (e.g. by pydantic's serializer, in a fetch
    thread, instead of a dict the writer would encode): written as is."""


def _jsonb(value: Any) -> Jsonb:
    if isinstance(value, JsonText):
        return Jsonb(value, dumps=str)
    return Jsonb(value, dumps=_encode_json)


_pg_dialect = postgresql.dialect()  # type: ignore[no-untyped-call]

# SQL type (as compiled) -> the name psycopg's binary COPY wants; anything else goes as text.
_BINARY_TYPES = {
    "BIGINT": "int8",
    "INTEGER": "int4",
    "SMALLINT": "int2",
    "TEXT": "text",
    "BOOLEAN": "bool",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "JSONB": "jsonb",
    "BYTEA": "bytea",
}


class LoadError(Exception):
    """A batch that cannot be loaded as given (mismatched columns, unknown key)."""


@dataclass(frozen=True)
class UpsertResult:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0
    ids: dict[tuple[Any, ...], int] | None = None
    new: frozenset[tuple[Any, ...]] | None = None
    """With ``return_ids``: the keys of the rows this call inserted (None when a batch went
    through COPY, which does not say)."""

    @property
    def written(self) -> int:
        return self.inserted + self.updated

    def __add__(self, other: UpsertResult) -> UpsertResult:
        ids = None
        if self.ids is not None or other.ids is not None:
            ids = {**(self.ids or {}), **(other.ids or {})}
        new = None
        if self.new is not None and other.new is not None:
            new = self.new | other.new
        return UpsertResult(
            self.inserted + other.inserted,
            self.updated + other.updated,
            self.unchanged + other.unchanged,
            self.duplicates + other.duplicates,
            ids,
            new,
        )


def natural_key(table: Table) -> tuple[str, ...]:
    """The table's natural key: its `*_nk` unique constraint, else its only one."""
    uniques = [c for c in table.constraints if isinstance(c, UniqueConstraint)]
    named = [c for c in uniques if str(c.name or "").endswith("_nk")]
    chosen = named or uniques
    if len(chosen) != 1:
        raise LoadError(f"{table.name}: name the key columns explicitly (no single natural key)")
    return tuple(col.name for col in chosen[0].columns)


def upsert(
    conn: Connection,
    target: Table | type[DeclarativeBase],
    rows: Iterable[Mapping[str, Any]],
    *,
    key: Sequence[str] | None = None,
    update: Sequence[str] | None = None,
    return_ids: bool = False,
    version: Sequence[str] = (),
) -> UpsertResult:
    """Insert or update `rows` (dicts with the same keys) in `target` in one round of COPY.

    `key` defaults to the table's natural key; `update` defaults to every other column given.
    With `return_ids`, the result maps each key tuple to the row's `id` (new or existing),
    and its `new` holds the keys of the rows this call inserted.
    `version` names columns that change whenever the source record does (Jira's `updated`,
    GitHub's `updatedAt`, plus what the pipeline derives outside them): rows whose stored
    version equals theirs are left out before COPY, so only their keys and versions cross the
    wire (counted unchanged). That check is skipped while the tenant (the key's leading
    columns) had no rows in `target` when the transaction first loaded it: a first load has
    nothing to compare with (a key repeated within it is still updated in place). Runs in
    the caller's transaction, so a checkpoint written alongside commits atomically.
    """
    table: Table = target if isinstance(target, Table) else target.__table__  # type: ignore[assignment]
    key_cols = tuple(key) if key is not None else natural_key(table)
    batch, duplicates = _dedupe(rows, key_cols)
    if not batch:
        if not return_ids:
            return UpsertResult(duplicates=duplicates)
        return UpsertResult(duplicates=duplicates, ids={}, new=frozenset())
    columns = list(batch[0].keys())
    _check_columns(table, columns, key_cols, batch)
    update_cols = [c for c in (update if update is not None else columns) if c not in key_cols]
    missing_version = [c for c in version if c not in columns]
    if missing_version:
        raise LoadError(f"{table.name}: version column(s) {', '.join(missing_version)} not given")

    raw = conn.connection.driver_connection
    assert raw is not None
    target_id = sql.Identifier(table.name)
    with raw.cursor() as cur:
        same: dict[tuple[Any, ...], int] = {}
        if version and not _new_tenants(conn, cur, table, key_cols, batch):
            probe = [*key_cols, *(c for c in version if c not in key_cols)]
            same = _same_versions(cur, table, probe, key_cols, version, batch)
            batch = [r for r in batch if tuple(r[c] for c in key_cols) not in same]
        inserted = updated = 0
        ids: dict[tuple[Any, ...], int] | None = dict(same) if return_ids else None
        new: frozenset[tuple[Any, ...]] | None = frozenset() if return_ids else None
        if batch and _unnests(table, columns, batch):
            inserted, updated, found, new_keys = _upsert_arrays(
                cur, table, columns, key_cols, update_cols, batch, return_ids=ids is not None
            )
            if ids is not None:
                ids.update(found)
                new = frozenset(new_keys)
        elif batch:
            new = None
            with _temp_copy(cur, table, columns, batch) as temp:
                cur.execute(_upsert_statement(target_id, temp, columns, key_cols, update_cols))
                counts = cur.fetchone()
                assert counts is not None
                inserted, updated = int(counts[0]), int(counts[1])
                if ids is not None:
                    ids.update(_fetch_ids(cur, target_id, temp, key_cols))
    return UpsertResult(
        inserted=inserted,
        updated=updated,
        unchanged=len(batch) + len(same) - inserted - updated,
        duplicates=duplicates,
        ids=ids,
        new=new,
    )


def _new_tenants(
    conn: Connection,
    cur: Any,
    table: Table,
    key_cols: Sequence[str],
    batch: list[Mapping[str, Any]],
) -> bool:
    """Whether every tenant of ``batch`` had no rows in ``table`` when the current transaction
    first loaded it (asked once per transaction, table and tenant; remembered in conn.info)."""
    prefix = key_cols[:-1]
    transaction = conn.get_transaction()
    if transaction is None:
        return False
    known: dict[tuple[Any, ...], tuple[weakref.ref[Any], bool]] = conn.info.setdefault(
        "pulse_load_new_tenants", {}
    )
    new = True
    for tenant in {tuple(row[c] for c in prefix) for row in batch}:
        key = (table.name, *tenant)
        cached = known.get(key)
        if cached is None or cached[0]() is not transaction:
            where = sql.SQL(" AND ").join(
                sql.SQL("{} = %s").format(sql.Identifier(c)) for c in prefix
            )
            query = sql.SQL("SELECT EXISTS (SELECT 1 FROM {}{}{})").format(
                sql.Identifier(table.name), sql.SQL(" WHERE ") if prefix else sql.SQL(""), where
            )
            cur.execute(query, tenant)
            row = cur.fetchone()
            cached = (weakref.ref(transaction), not bool(row and row[0]))
            known[key] = cached
        new = new and cached[1]
    return new


@contextmanager
def _temp_copy(
    cur: Any, table: Table, columns: list[str], batch: list[Mapping[str, Any]]
) -> Iterator[sql.Identifier]:
    """A temporary table with ``columns`` of ``table`` holding ``batch`` (COPY)."""
    temp = sql.Identifier(f"_load_{table.name}_{next(_temp_names)}")
    col_list = sql.SQL(", ").join(map(sql.Identifier, columns))
    cur.execute(
        sql.SQL("CREATE TEMP TABLE {} ON COMMIT DROP AS SELECT {} FROM {} WITH NO DATA").format(
            temp, col_list, sql.Identifier(table.name)
        )
    )
    _copy_rows(cur, table, temp, columns, batch)
    yield temp
    cur.execute(sql.SQL("DROP TABLE {}").format(temp))


def _same_versions(
    cur: Any,
    table: Table,
    probe: list[str],
    key_cols: Sequence[str],
    version: Sequence[str],
    batch: list[Mapping[str, Any]],
) -> dict[tuple[Any, ...], int]:
    """Key → id of the rows of ``batch`` whose stored ``version`` columns are the same
    (their keys and versions sent as arrays: one round trip)."""
    query = _same_versions_query(table, tuple(probe), tuple(key_cols), tuple(version))
    cur.execute(query, _arrays(table, probe, batch))
    return {tuple(row[:-1]): int(row[-1]) for row in cur.fetchall()}


@functools.cache
def _same_versions_query(
    table: Table, probe: tuple[str, ...], key_cols: tuple[str, ...], version: tuple[str, ...]
) -> str:
    stored = sql.SQL(", ").join(sql.SQL("t.{}").format(sql.Identifier(c)) for c in version)
    given = sql.SQL(", ").join(sql.SQL("s.{}").format(sql.Identifier(c)) for c in version)
    return (
        sql.SQL(
            "SELECT {keys}, t.id FROM {source} JOIN {target} t ON {join}"
            " WHERE ROW({stored}) IS NOT DISTINCT FROM ROW({given})"
        )
        .format(
            keys=_prefixed("s", key_cols),
            source=_unnest(table, probe),
            target=sql.Identifier(table.name),
            join=_join(key_cols),
            stored=stored,
            given=given,
        )
        .as_string()
    )


UNNEST_MAX_ROWS = 20_000
"""Above this, COPY into a temporary table (its round trips no longer matter; its speed
on big loads does)."""


@functools.cache
def _column_types(table: Table, columns: tuple[str, ...]) -> tuple[str, ...]:
    """Each column's SQL type as compiled; VARCHAR(n) as TEXT (the insert still checks n)."""
    compiled = [str(table.c[c].type.compile(dialect=_pg_dialect)) for c in columns]
    return tuple("TEXT" if t.startswith("VARCHAR") else t for t in compiled)


def _sql_types(table: Table, columns: Sequence[str]) -> tuple[str, ...]:
    return _column_types(table, tuple(columns))


def _unnests(table: Table, columns: Sequence[str], batch: list[Mapping[str, Any]]) -> bool:
    """Whether ``batch`` goes as arrays: small enough, and no array column (unnest would
    flatten it)."""
    return len(batch) <= UNNEST_MAX_ROWS and not any(
        t.endswith("]") for t in _sql_types(table, columns)
    )


def _unnest(table: Table, columns: tuple[str, ...]) -> sql.Composed:
    """``unnest(%b::type[], …) AS s(columns)``: one binary array parameter per column."""
    casts = sql.SQL(", ").join(sql.SQL("%b::" + t + "[]") for t in _column_types(table, columns))
    return sql.SQL("unnest({}) AS s({})").format(
        casts, sql.SQL(", ").join(map(sql.Identifier, columns))
    )


def _arrays(
    table: Table, columns: Sequence[str], batch: Sequence[Mapping[str, Any]]
) -> list[list[Any]]:
    """The parameters of `_unnest`: one list per column."""
    params: list[list[Any]] = []
    for column, sql_type in zip(columns, _sql_types(table, columns), strict=True):
        values = [row[column] for row in batch]
        if sql_type == "JSONB":
            values = [None if v is None else _jsonb(v) for v in values]
        elif sql_type == "FLOAT":  # an array holds one type: 1 and 1.5 are both float8
            values = [None if v is None else float(v) for v in values]
        params.append(values)
    return params


def _prefixed(alias: str, columns: Sequence[str]) -> sql.Composed:
    return sql.SQL(", ").join(sql.SQL(alias + ".{}").format(sql.Identifier(c)) for c in columns)


def _join(key_cols: Sequence[str]) -> sql.Composed:
    return sql.SQL(" AND ").join(
        sql.SQL("t.{0} = s.{0}").format(sql.Identifier(c)) for c in key_cols
    )


def _upsert_arrays(
    cur: Any,
    table: Table,
    columns: list[str],
    key_cols: Sequence[str],
    update_cols: list[str],
    batch: list[Mapping[str, Any]],
    *,
    return_ids: bool,
) -> tuple[int, int, dict[tuple[Any, ...], int], list[tuple[Any, ...]]]:
    """The upsert as one statement: (inserted, updated, key → id and the inserted rows' keys
    when ``return_ids``).

    The ids come in the same round trip: the written rows' from RETURNING, the others' from
    the rows the statement found (its snapshot predates its own insert)."""
    query = _upsert_arrays_query(
        table, tuple(columns), tuple(key_cols), tuple(update_cols), return_ids
    )
    cur.execute(query, _arrays(table, columns, batch))
    if not return_ids:
        counts = cur.fetchone()
        assert counts is not None
        return int(counts[0]), int(counts[1]), {}, []
    updated = 0
    ids: dict[tuple[Any, ...], int] = {}
    new: list[tuple[Any, ...]] = []
    for row in cur.fetchall():
        key = tuple(row[1:-1])
        if row[0] is True:
            new.append(key)
        elif row[0] is False:
            updated += 1
        ids[key] = int(row[-1])
    return len(new), updated, ids, new


@functools.cache
def _upsert_arrays_query(
    table: Table,
    columns: tuple[str, ...],
    key_cols: tuple[str, ...],
    update_cols: tuple[str, ...],
    return_ids: bool,
) -> str:
    target = sql.Identifier(table.name)
    col_list = sql.SQL(", ").join(map(sql.Identifier, columns))
    keys = sql.SQL(", ").join(map(sql.Identifier, key_cols))
    returned = _prefixed("t", [*key_cols, "id"]) if return_ids else sql.SQL("1 AS _one")
    written = sql.SQL(
        "WITH s AS MATERIALIZED (SELECT * FROM {source}),"
        " u AS (INSERT INTO {target} AS t ({cols}) SELECT {cols} FROM s"
        " ON CONFLICT ({keys}) {action} RETURNING (xmax = 0) AS _inserted, {returned})"
    ).format(
        source=_unnest(table, columns),
        target=target,
        cols=col_list,
        keys=keys,
        action=_conflict_action(list(update_cols)),
        returned=returned,
    )
    tail: sql.Composable
    if not return_ids:
        tail = sql.SQL(
            " SELECT count(*) FILTER (WHERE _inserted), count(*) FILTER (WHERE NOT _inserted)"
            " FROM u"
        )
    else:
        tail = sql.SQL(
            " SELECT _inserted, {keys}, id FROM u"
            " UNION ALL SELECT NULL, {found}, t.id FROM s JOIN {target} t ON {join}"
        ).format(keys=keys, found=_prefixed("s", key_cols), target=target, join=_join(key_cols))
    return (written + tail).as_string()


def _copy_rows(
    cur: Any,
    table: Table,
    temp: sql.Identifier,
    columns: list[str],
    batch: list[Mapping[str, Any]],
) -> None:
    """Binary COPY when every column type has a binary form (faster), else text COPY."""
    compiled = _sql_types(table, columns)
    binary = all(t in _BINARY_TYPES for t in compiled)
    jsonb = [i for i, c in enumerate(columns) if isinstance(table.c[c].type, JSONB)]
    fmt = sql.SQL(" (FORMAT BINARY)") if binary else sql.SQL("")
    col_list = sql.SQL(", ").join(map(sql.Identifier, columns))
    with cur.copy(sql.SQL("COPY {} ({}) FROM STDIN{}").format(temp, col_list, fmt)) as copy:
        if binary:
            copy.set_types([_BINARY_TYPES[t] for t in compiled])
        for row in batch:
            values = [row[c] for c in columns]
            for i in jsonb:
                if values[i] is not None:
                    values[i] = _jsonb(values[i])
            copy.write_row(values)


def _dedupe(
    rows: Iterable[Mapping[str, Any]], key_cols: Sequence[str]
) -> tuple[list[Mapping[str, Any]], int]:
    """Keep the last row per key: ON CONFLICT cannot touch one row twice in a statement."""
    by_key: dict[tuple[Any, ...], Mapping[str, Any]] = {}
    key_of = _key_getter(tuple(key_cols))
    count = 0
    for row in rows:
        count += 1
        try:
            by_key[key_of(row)] = row
        except KeyError as exc:
            raise LoadError(f"row is missing key column {exc.args[0]!r}") from None
    return list(by_key.values()), count - len(by_key)


@functools.cache
def _key_getter(key_cols: tuple[str, ...]) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
    """A row's key as a tuple (one C call per row: every row of every load passes here)."""
    if len(key_cols) == 1:
        (only,) = key_cols
        return lambda row: (row[only],)
    return operator.itemgetter(*key_cols)


def _check_columns(
    table: Table, columns: list[str], key_cols: Sequence[str], batch: list[Mapping[str, Any]]
) -> None:
    unknown = [c for c in columns if c not in table.c]
    if unknown:
        raise LoadError(f"{table.name} has no column(s) {', '.join(unknown)}")
    missing_key = [c for c in key_cols if c not in columns]
    if missing_key:
        raise LoadError(f"{table.name}: key column(s) {', '.join(missing_key)} not given")
    width = len(columns)
    for row in batch:
        if len(row) != width:
            raise LoadError(f"{table.name}: every row must have the same columns as the first")


def _upsert_statement(
    target: sql.Identifier,
    temp: sql.Identifier,
    columns: list[str],
    key_cols: Sequence[str],
    update_cols: list[str],
) -> sql.Composed:
    col_list = sql.SQL(", ").join(map(sql.Identifier, columns))
    conflict = sql.SQL(", ").join(map(sql.Identifier, key_cols))
    action = _conflict_action(update_cols)
    return sql.SQL(
        "WITH upserted AS ("
        " INSERT INTO {target} AS t ({cols}) SELECT {cols} FROM {temp}"
        " ON CONFLICT ({conflict}) {action}"
        " RETURNING (xmax = 0) AS inserted)"
        " SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted)"
        " FROM upserted"
    ).format(target=target, cols=col_list, temp=temp, conflict=conflict, action=action)


def _conflict_action(update_cols: list[str]) -> sql.Composable:
    """Update what changed (a row whose values are the same is not rewritten)."""
    if not update_cols:
        return sql.SQL("DO NOTHING")
    assignments = sql.SQL(", ").join(
        sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(c)) for c in update_cols
    )
    current = sql.SQL(", ").join(sql.SQL("t.{}").format(sql.Identifier(c)) for c in update_cols)
    incoming = sql.SQL(", ").join(
        sql.SQL("EXCLUDED.{}").format(sql.Identifier(c)) for c in update_cols
    )
    # ROW(...) keeps a single-column comparison a row comparison too.
    return sql.SQL("DO UPDATE SET {} WHERE ROW({}) IS DISTINCT FROM ROW({})").format(
        assignments, current, incoming
    )


def _fetch_ids(
    cur: Any, target: sql.Identifier, temp: sql.Identifier, key_cols: Sequence[str]
) -> dict[tuple[Any, ...], int]:
    keys = sql.SQL(", ").join(sql.SQL("s.{}").format(sql.Identifier(c)) for c in key_cols)
    join = sql.SQL(" AND ").join(
        sql.SQL("t.{0} = s.{0}").format(sql.Identifier(c)) for c in key_cols
    )
    cur.execute(
        sql.SQL("SELECT {keys}, t.id FROM {temp} s JOIN {target} t ON {join}").format(
            keys=keys, temp=temp, target=target, join=join
        )
    )
    return {tuple(row[:-1]): int(row[-1]) for row in cur.fetchall()}


def fetch_ids(
    conn: Connection,
    target: Table | type[DeclarativeBase],
    key_rows: Iterable[Mapping[str, Any]],
    *,
    key: Sequence[str] | None = None,
) -> dict[tuple[Any, ...], int]:
    """Map natural keys to row ids for rows loaded earlier (one query, keys as arrays)."""
    table: Table = target if isinstance(target, Table) else target.__table__  # type: ignore[assignment]
    key_cols = tuple(key) if key is not None else natural_key(table)
    rows = [{c: r[c] for c in key_cols} for r in key_rows]
    if not rows:
        return {}
    raw = conn.connection.driver_connection
    assert raw is not None
    query = sql.SQL("SELECT {}, t.id FROM {} JOIN {} t ON {}").format(
        _prefixed("s", key_cols),
        _unnest(table, key_cols),
        sql.Identifier(table.name),
        _join(key_cols),
    )
    with raw.cursor() as cur:
        cur.execute(query, _arrays(table, key_cols, rows))
        return {tuple(row[:-1]): int(row[-1]) for row in cur.fetchall()}


def iter_batches(
    rows: Iterable[Mapping[str, Any]], size: int = 5000
) -> Iterable[list[Mapping[str, Any]]]:
    """Split a stream of rows into lists of at most `size` (bounded memory per load)."""
    iterator = iter(rows)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


def deactivate_missing(
    conn: Connection,
    target: type[DeclarativeBase],
    client_id: int,
    integration_id: int,
    seen: Iterable[str],
) -> int:
    """Mark active rows of one integration whose ``external_id`` is not in ``seen`` as
    inactive (a project or repository the source no longer shows); returns how many."""
    table: Table = target.__table__  # type: ignore[assignment]
    result = conn.execute(
        table.update()
        .where(
            table.c.client_id == client_id,
            table.c.integration_id == integration_id,
            table.c.active.is_(True),
            table.c.external_id.not_in(list(seen)),
        )
        .values(active=False)
    )
    return int(result.rowcount)
