from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, text

from storage import load as load_module
from storage.load import LoadError, fetch_ids, iter_batches, upsert
from storage.models import Project, WorkItem


def issue_rows(count: int, status: str = "To Do") -> list[dict[str, Any]]:
    base = datetime(2024, 1, 1, tzinfo=UTC)
    return [
        {
            "client_id": 1,
            "integration_id": 1,
            "source": "jira",
            "external_id": str(10000 + i),
            "key": f"ALP-{i}",
            "project_key": "ALP",
            "type": "Story",
            "status": status,
            "summary": "x" * 200,
            "created_at": base + timedelta(minutes=i),
            "updated_at": base + timedelta(minutes=i, hours=1),
            "custom_fields": {"Story Points": i % 8, "Team": "Core"},
            "raw": {"id": str(10000 + i), "fields": {"labels": ["a"]}},
        }
        for i in range(count)
    ]


def load_all(engine: Engine, rows: list[dict[str, Any]]) -> tuple[int, int, int]:
    inserted = updated = unchanged = 0
    with engine.begin() as conn:
        for batch in iter_batches(rows, 2500):
            result = upsert(conn, WorkItem, batch)
            inserted += result.inserted
            updated += result.updated
            unchanged += result.unchanged
    return inserted, updated, unchanged


def count(engine: Engine, sql: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(sql)).scalar_one())


def test_loading_the_same_10000_rows_twice_changes_nothing(tenant: Engine) -> None:
    rows = issue_rows(10_000)
    assert load_all(tenant, rows) == (10_000, 0, 0)
    versions = row_versions(tenant)
    assert load_all(tenant, rows) == (0, 0, 10_000)
    assert count(tenant, "SELECT count(*) FROM work_items") == 10_000
    # An upsert that changes nothing must not rewrite the row: same tuple version (xmin).
    assert row_versions(tenant) == versions


def row_versions(engine: Engine) -> list[tuple[int, str]]:
    with engine.connect() as conn:
        return [
            (int(r[0]), str(r[1]))
            for r in conn.execute(text("SELECT id, xmin::text FROM work_items ORDER BY id"))
        ]


def test_reloading_changed_rows_applies_the_updates(tenant: Engine) -> None:
    load_all(tenant, issue_rows(10_000))
    changed = issue_rows(10_000)
    for row in changed[::4]:
        row["status"] = "Done"
        row["custom_fields"] = {"Story Points": 13}
    assert load_all(tenant, changed) == (0, 2_500, 7_500)
    assert count(tenant, "SELECT count(*) FROM work_items WHERE status = 'Done'") == 2_500
    assert (
        count(tenant, "SELECT count(*) FROM work_items WHERE custom_fields->>'Story Points' = '13'")
        == 2_500
    )


def test_jsonb_values_are_stored_as_objects_not_strings(tenant: Engine) -> None:
    load_all(tenant, issue_rows(3))
    assert count(tenant, "SELECT count(*) FROM work_items WHERE jsonb_typeof(raw) = 'object'") == 3


def test_duplicate_keys_in_one_batch_keep_the_last_row(tenant: Engine) -> None:
    rows = issue_rows(2)
    rows.append(dict(rows[0], status="In Progress"))
    with tenant.begin() as conn:
        result = upsert(conn, WorkItem, rows)
    assert (result.inserted, result.duplicates) == (2, 1)
    assert count(tenant, "SELECT count(*) FROM work_items WHERE status = 'In Progress'") == 1


def test_return_ids_maps_every_key_including_unchanged_rows(tenant: Engine) -> None:
    rows = issue_rows(5)
    with tenant.begin() as conn:
        first = upsert(conn, WorkItem, rows, return_ids=True)
        again = upsert(conn, WorkItem, rows, return_ids=True)
        looked_up = fetch_ids(conn, WorkItem, rows)
    assert first.ids is not None and len(first.ids) == 5
    assert again.ids == first.ids == looked_up
    assert again.unchanged == 5


def test_rows_whose_version_is_unchanged_skip_the_load_and_still_get_their_ids(
    tenant: Engine,
) -> None:
    rows = issue_rows(10)
    with tenant.begin() as conn:
        first = upsert(conn, WorkItem, rows, return_ids=True, version=("updated_at",))
    assert first.inserted == 10 and first.ids is not None
    # The source bumped the version of rows 0-2 only; row 9 differs but kept its version
    # (it is the same record as far as the source says, so it is not sent).
    later = [dict(r, status="Done") for r in rows]
    for r in later[:3]:
        r["updated_at"] += timedelta(minutes=1)
    with tenant.begin() as conn:
        again = upsert(conn, WorkItem, later, return_ids=True, version=("updated_at",))
    assert (again.inserted, again.updated, again.unchanged) == (0, 3, 7)
    assert again.ids == first.ids
    assert count(tenant, "SELECT count(*) FROM work_items WHERE status = 'Done'") == 3


def test_a_first_load_skips_the_version_check_until_its_transaction_ends(
    tenant: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    probes: list[int] = []
    real = load_module._same_versions
    monkeypatch.setattr(
        load_module, "_same_versions", lambda cur, *a: probes.append(1) or real(cur, *a)
    )
    rows = issue_rows(30)
    with tenant.begin() as conn:  # the tenant has no work items yet: nothing to compare with
        for batch in iter_batches(rows[:20], 10):
            upsert(conn, WorkItem, batch, version=("updated_at",))
        # A key loaded earlier in the same first load is still updated in place.
        again = upsert(conn, WorkItem, [dict(rows[0], status="Done")], version=("updated_at",))
    assert probes == []
    assert (again.inserted, again.updated) == (0, 1)
    with tenant.begin() as conn:  # now the tenant has rows: unchanged ones skip the wire
        later = upsert(conn, WorkItem, rows, version=("updated_at",))
    assert probes == [1]
    assert (later.inserted, later.updated, later.unchanged) == (10, 0, 20)
    assert count(tenant, "SELECT count(*) FROM work_items") == 30


def test_a_version_column_the_rows_lack_is_refused(tenant: Engine) -> None:
    with tenant.begin() as conn, pytest.raises(LoadError, match="version column"):
        upsert(conn, WorkItem, issue_rows(1), version=("dev_summary",))


def test_rows_with_mismatched_or_unknown_columns_are_refused(tenant: Engine) -> None:
    rows = issue_rows(2)
    del rows[1]["summary"]
    with tenant.begin() as conn, pytest.raises(LoadError, match="same columns"):
        upsert(conn, WorkItem, rows)
    with tenant.begin() as conn, pytest.raises(LoadError, match="no column"):
        upsert(conn, WorkItem, [dict(issue_rows(1)[0], colour="red")])
    with tenant.begin() as conn, pytest.raises(LoadError, match="missing key column"):
        upsert(conn, WorkItem, [{"client_id": 1, "source": "jira"}])


def test_a_failed_load_rolls_back_with_the_caller_transaction(tenant: Engine) -> None:
    with pytest.raises(RuntimeError), tenant.begin() as conn:
        upsert(conn, WorkItem, issue_rows(10))
        raise RuntimeError("crash before commit")
    assert count(tenant, "SELECT count(*) FROM work_items") == 0


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.lists(st.tuples(st.integers(0, 20), st.sampled_from(["A", "B", "C"])), max_size=15),
        min_size=1,
        max_size=4,
    )
)
def test_any_sequence_of_loads_leaves_the_last_value_of_each_key(
    tenant: Engine, batches: list[list[tuple[int, str]]]
) -> None:
    with tenant.begin() as conn:
        conn.execute(text("DELETE FROM projects"))
    expected: dict[str, str] = {}
    with tenant.begin() as conn:
        for batch in batches:
            rows = [
                {
                    "client_id": 1,
                    "integration_id": 1,
                    "external_id": str(k),
                    "key": f"P{k}",
                    "name": n,
                }
                for k, n in batch
            ]
            result = upsert(conn, Project, rows)
            assert result.inserted + result.updated + result.unchanged + result.duplicates == len(
                rows
            )
            for k, n in batch:
                expected[str(k)] = n
    with tenant.connect() as conn:
        stored = dict(conn.execute(text("SELECT external_id, name FROM projects")).all())
    assert stored == expected


@pytest.mark.parametrize("unnest_max_rows", [0, 20_000], ids=["copy", "arrays"])
def test_both_ways_of_sending_a_batch_store_and_count_the_same(
    tenant: Engine, monkeypatch: pytest.MonkeyPatch, unnest_max_rows: int
) -> None:
    """A page-sized batch goes as arrays in one statement, a big one through COPY and a
    temporary table: same rows, counts and ids either way."""
    monkeypatch.setattr(load_module, "UNNEST_MAX_ROWS", unnest_max_rows)
    rows = issue_rows(40)
    rows[3]["custom_fields"] = {"quote": 'a "b"\t{c}', "none": None, "n": 1.5}
    rows[4]["summary"] = None
    with tenant.begin() as conn:
        first = upsert(conn, WorkItem, rows, return_ids=True)
    assert (first.inserted, first.updated, first.unchanged) == (40, 0, 0)
    changed = [dict(r, status="Done") if i % 4 == 0 else r for i, r in enumerate(rows)]
    with tenant.begin() as conn:
        again = upsert(conn, WorkItem, changed, return_ids=True)
        plain = upsert(conn, WorkItem, changed)
    assert (again.inserted, again.updated, again.unchanged) == (0, 10, 30)
    assert (plain.inserted, plain.updated, plain.unchanged) == (0, 0, 40)
    assert again.ids == first.ids and first.ids is not None and len(first.ids) == 40
    query = "SELECT custom_fields, summary FROM work_items WHERE external_id IN ('10003', '10004')"
    with tenant.connect() as conn:
        stored = conn.execute(text(query + " ORDER BY external_id")).all()
    assert [tuple(r) for r in stored] == [
        (rows[3]["custom_fields"], "x" * 200),
        (rows[4]["custom_fields"], None),
    ]
