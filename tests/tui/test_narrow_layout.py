"""At 80x24 and 100x32 nothing is cut without a mark: whole footer hints only (secondary ones
given up first), "…" at the end of a cut cell, the selected job in full on a detail line,
and name columns that grow with the width."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import DataTable, Static
from textual.widgets._footer import FooterKey

from pulse_console.tui.app import PulseApp
from pulse_console.tui.context import ConsoleContext
from pulse_console.tui.keymap import COMMANDS
from pulse_console.tui.widgets.common.console_footer import ConsoleFooter
from storage.db import Database
from tests.tui.conftest import make_ctx
from tests.tui.fakes import NOW, FakeJobs, job_row, seeded_jobs
from tests.tui.test_snapshots import app_on, seed_logs, settle

SIZES = [(80, 24), (100, 32)]
LONG_REASON = "retries spent, the chain moved on: 503 from dev.azure.com after 3 attempts"


def narrow_jobs() -> FakeJobs:
    azure = job_row(
        "sandbox-azure-devops",
        "FAILED",
        LONG_REASON,
        NOW - timedelta(minutes=50),
        NOW + timedelta(minutes=10),
        3,
        0,
    )
    return FakeJobs([*seeded_jobs(), azure])


def line_of(table: DataTable[Any], row_key: str) -> str:
    y = table.get_row_index(row_key) + 1  # under the header
    return table.render_line(y).text


@pytest.mark.parametrize("size", SIZES)
async def test_the_footer_shows_only_whole_hints_and_gives_up_secondary_ones_first(
    ctx: ConsoleContext, size: tuple[int, int]
) -> None:
    ctx.jobs = narrow_jobs()
    app = PulseApp(ctx)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        footer = app.screen.query_one(ConsoleFooter)
        shown = [k for k in footer.query(FooterKey) if k.display]
        assert sum(k.render().cell_len for k in shown) <= size[0]
        for key in shown:  # every hint shown is whole: the region holds its whole text
            assert key.region.width >= key.render().cell_len, key.description
            assert key.region.right <= size[0]
        titles = {k.description for k in shown}
        assert {"Start", "Stop", "Pause", "Resume", "Help"} <= titles
        secondary = {c.title for c in COMMANDS if c.secondary}
        hidden = {k.description for k in footer.query(FooterKey) if not k.display}
        if hidden - secondary:  # a primary hint goes only when every secondary one went
            assert not (titles & secondary)


async def test_the_help_hint_stays_when_a_screen_has_more_keys_than_room(
    ctx: ConsoleContext,
) -> None:
    app = PulseApp(ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        app.switch_to("metrics")
        await settle(pilot)
        footer = app.screen.query_one(ConsoleFooter)
        shown = [k for k in footer.query(FooterKey) if k.display]
        assert "Help" in {k.description for k in shown}
        assert sum(k.render().cell_len for k in shown) <= 80


@pytest.mark.parametrize("size", SIZES)
async def test_jobs_below_120_columns_drop_last_run_and_show_the_selected_job_in_full(
    ctx: ConsoleContext, size: tuple[int, int]
) -> None:
    ctx.jobs = narrow_jobs()
    app = PulseApp(ctx)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        table = app.screen.query_one("#jobs", DataTable)
        keys = [str(k.value) for k in table.columns]
        assert "last_run" not in keys and "last_run_short" not in keys
        job_width = table.columns[next(k for k in table.columns if k.value == "job")].width
        assert job_width == (16 if size[0] == 80 else 28)  # it grows with the width
        row = line_of(table, "sandbox-azure-devops")
        if size[0] == 80:
            assert "sandbox-azure-d…" in row and row.rstrip().endswith("…")  # name, reason
        else:
            assert "sandbox-azure-devops" in row
        table.move_cursor(row=table.get_row_index("sandbox-azure-devops"))
        await settle(pilot)
        detail = app.screen.query_one("#job-detail", Static)
        assert detail.display
        shown = str(detail.render())
        assert "sandbox-azure-devops" in shown and LONG_REASON in shown
        await pilot.resize_terminal(140, 32)
        await settle(pilot)
        assert not detail.display  # the table shows it all at 120 columns and more


@pytest.mark.parametrize("size", SIZES)
async def test_log_job_names_fit_at_80_and_grow_from_100(
    ctx: ConsoleContext, size: tuple[int, int]
) -> None:
    seed_logs(ctx.services.database, 5)
    app = PulseApp(ctx)
    async with app.run_test(size=size) as pilot:
        app.switch_to("logs")
        await settle(pilot)
        table = app.screen.query_one(DataTable)
        widths = {str(k.value): c.width for k, c in table.columns.items()}
        assert widths["job"] >= len("sandbox-github")
        if size[0] >= 100:
            assert widths["level"] == 8 and widths["job"] >= 18  # the wide set, grown
        rows = [table.render_line(y).text for y in range(1, table.row_count + 1)]
        assert any("sandbox-github " in r for r in rows)


@pytest.mark.parametrize("size", SIZES)
def test_jobs_narrow_layout(
    snap_compare: Any, database: Database, tmp_path: Path, size: tuple[int, int]
) -> None:
    ctx = make_ctx(database, tmp_path, jobs=narrow_jobs())

    async def select_azure(pilot: Any) -> None:
        await settle(pilot)
        await pilot.press("down", "down", "down")  # sandbox-azure-devops, on the detail line
        await settle(pilot)

    assert snap_compare(app_on(ctx, "jobs"), terminal_size=size, run_before=select_azure)
