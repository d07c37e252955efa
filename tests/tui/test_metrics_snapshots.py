"""The Metrics screen at 100x32 and 80x24: no data, seeded history, drill-down, monochrome."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from storage.db import Database
from tests.tui.conftest import make_ctx
from tests.tui.metrics_seed import seed_delivery
from tests.tui.test_snapshots import SIZES, app_on, settle


def test_metrics_empty(snap_compare: Any, database: Database, tmp_path: Path) -> None:
    ctx = make_ctx(database, tmp_path)
    assert snap_compare(app_on(ctx, "metrics"), terminal_size=(80, 24), run_before=settle)


@pytest.mark.parametrize("size", SIZES)
def test_metrics_populated(
    snap_compare: Any, tenant: Engine, database: Database, tmp_path: Path, size: tuple[int, int]
) -> None:
    seed_delivery(tenant)
    ctx = make_ctx(database, tmp_path)
    assert snap_compare(app_on(ctx, "metrics"), terminal_size=size, run_before=settle)


def test_metrics_drill_down_of_cycle_time(
    snap_compare: Any, tenant: Engine, database: Database, tmp_path: Path
) -> None:
    seed_delivery(tenant)
    ctx = make_ctx(database, tmp_path)

    async def drill(pilot: Any) -> None:
        await settle(pilot)
        await pilot.press("down", "enter")
        await settle(pilot)

    assert snap_compare(app_on(ctx, "metrics"), terminal_size=(100, 32), run_before=drill)


def test_metrics_in_monochrome(
    snap_compare: Any,
    tenant: Engine,
    database: Database,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    seed_delivery(tenant)
    ctx = make_ctx(database, tmp_path)
    assert snap_compare(app_on(ctx, "metrics"), terminal_size=(80, 24), run_before=settle)
