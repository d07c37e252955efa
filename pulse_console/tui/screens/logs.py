"""Logs: filtered, keyset-paged log records with follow mode, detail, copy, export.

The table holds a bounded window of rows; reaching its top loads the previous page, and
following appends what arrived. Only the operator moving the cursor off the newest row stops
following (like `less +F`); the table's own cursor moves while it is redrawn never do. A
badge then counts the records that arrived meanwhile; `G` or `f` goes back to the tail and
follows again.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.widgets import DataTable, Static

from pulse_console.services.log_search import SearchRefused
from pulse_console.services.logs import Cursor, LogFilter, LogPage, LogRecord, parse_filter
from pulse_console.tui.dialogs.prompt import PromptDialog
from pulse_console.tui.dialogs.text_view import TextViewDialog
from pulse_console.tui.format import clip, status
from pulse_console.tui.messages import Done, LogDetailLoaded, LogPageLoaded, NewLogCount
from pulse_console.tui.screens.base import PulseScreen
from pulse_console.tui.widgets.common.columns import Column, ColumnSets

PAGE = 200
WINDOW = 2000


def parse_time(value: str) -> datetime | None:
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d"):
        try:
            return datetime.strptime(value, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    return None


# Fixed widths (auto widths followed the moment rows arrived); the message takes the rest.
_LOG_TAIL = (
    Column("level", "Level", 8),
    Column("job", "Job", 16, grow_to=24),
    Column("run", "Run", 6),
    Column("message", "Message", None),
)
_LOG_TAIL_NARROW = (
    Column("level", "Level", 7),
    Column("job", "Job", 14),
    Column("run", "Run", 5),
    Column("message", "Message", None),
)
_TIME = Column("ts", "Time", 14)
# Wide from 100 columns, where the job column grows to hold an integration's name
# (`sandbox-azure-devops`) while the message keeps 40 cells; at 80, `sandbox-github`.
LOG_COLUMNS = ColumnSets(
    wide=(_TIME, *_LOG_TAIL), narrow=(_TIME, *_LOG_TAIL_NARROW), narrow_below=100, rest_keeps=40
)
LOG_COLUMNS_NO_TIME = ColumnSets(
    wide=_LOG_TAIL, narrow=_LOG_TAIL_NARROW, narrow_below=100, rest_keeps=40
)


class LogsScreen(PulseScreen):
    SCOPE: ClassVar[str] = "logs"
    BUSY: ClassVar[bool] = True
    CSS_PATH = "logs.tcss"
    FILTER_HINT = "level:ERROR job:sandbox-jira run:12 text… (Enter applies, Esc clears)"

    def __init__(self) -> None:
        super().__init__()
        self.records: list[LogRecord] = []
        self.flt = LogFilter()
        self.more_before = False
        self.following = True
        self.new_count = 0
        self.show_ts = True
        self.wrap = False
        self._loading = False
        self._rendering = False
        self._row = 0  # the cursor's row as the operator left it (kept across column changes)

    def compose_body(self) -> ComposeResult:
        table: DataTable[str | Text] = DataTable(id="logs", cursor_type="row")
        yield table
        yield Static(id="badge", classes="badge")
        yield Static(id="preview", classes="panel")

    def on_mount(self) -> None:
        self.query_one("#preview").display = False
        if self.ctx.live:
            self.set_interval(1.0, self.poll)

    def column_sets(self) -> tuple[str, ColumnSets]:
        return ("#logs", LOG_COLUMNS if self.show_ts else LOG_COLUMNS_NO_TIME)

    def columns_changed(self) -> None:
        # The columns were rebuilt (rows dropped, cursor at 0): back where the operator was.
        if self.records:
            self._redraw(self._tail_or_row())

    def _tail_or_row(self) -> int:
        return len(self.records) - 1 if self.following else self._row

    def reload(self) -> None:
        query = self.pulse.pending_log_query
        if query is not None:
            # A run's "logs" sets run:N; arriving by name sets "" (no filter left behind).
            self.pulse.pending_log_query = None
            self.show_filter(query)  # shown in the filter bar, applied by apply_filter
            return
        self.following = True
        self._fetch("replace", None)

    def apply_filter(self, text: str) -> None:
        try:
            self.flt = parse_filter(text)
        except SearchRefused as exc:
            self.notify(str(exc), severity="warning")
            return
        self.reload()

    @work(thread=True, exclusive=True, exit_on_error=False, group="logs")
    def _fetch(self, mode: str, cursor: Cursor | None, at: datetime | None = None) -> None:
        page = self.ctx.services.logs.page(
            self.flt,
            before=cursor if mode == "prepend" else None,
            after=cursor if mode == "append" else None,
            at=at,
            limit=PAGE,
        )
        self.post_message(LogPageLoaded(page, mode))

    @work(thread=True, exclusive=True, exit_on_error=False, group="logs-follow")
    def _count_new(self, cursor: Cursor) -> None:
        count = self.ctx.services.logs.count_newer(self.flt, cursor)
        self.post_message(NewLogCount(count))

    def poll(self) -> None:
        """One look for new records (every second on a live console)."""
        if not self.is_current or not self.records or self._loading:
            return
        if self.following:
            self._loading = True
            self._fetch("append", self.records[-1].cursor)
        else:
            self._count_new(self.records[-1].cursor)

    def on_log_page_loaded(self, message: LogPageLoaded) -> None:
        self._loading = False
        page: LogPage = message.page
        table = self.query_one(DataTable)
        if message.mode == "append":
            if not page.records:
                return
            self.records += page.records
            if len(self.records) > WINDOW:
                self.records = self.records[-WINDOW:]
                self.more_before = True
                self._redraw(self._tail_or_row())
            else:
                self._append_rows(page.records)
            return
        if message.mode == "prepend":
            self.records = page.records + self.records
            self.more_before = page.more_before
            self.records = self.records[:WINDOW]
            self._redraw(len(page.records))
            return
        self.records = page.records
        self.more_before = page.more_before
        self.new_count = 0
        if page.note:
            self.notify(page.note)
        self._redraw(0 if message.mode == "at" else len(self.records) - 1)
        table.focus()

    def _redraw(self, cursor_row: int) -> None:
        self._rendering = True
        self.query_one(DataTable).clear()
        self._add_rows(self.records)
        self._place_cursor(cursor_row)

    def _append_rows(self, records: list[LogRecord]) -> None:
        """Following: the new rows go below the others, and the cursor with them."""
        self._rendering = True
        self._add_rows(records)
        self._place_cursor(len(self.records) - 1)

    def _add_rows(self, records: list[LogRecord]) -> None:
        table = self.query_one(DataTable)
        _, sets = self.column_sets()
        for record in records:
            cells: dict[str, str | Text] = {
                "ts": record.ts.astimezone(UTC).strftime("%m-%d %H:%M:%S"),
                "level": status(record.level),
                "job": record.job or "—",
                "run": "—" if record.run_id is None else str(record.run_id),
                "message": clip(record.message),
            }
            sets.row(table, cells, key=str(record.id))

    def _place_cursor(self, row: int) -> None:
        table = self.query_one(DataTable)
        if self.records:
            self._row = max(0, min(row, len(self.records) - 1))
            table.move_cursor(row=self._row, animate=False)
        self.call_after_refresh(self._rendered)
        self._status()
        self._preview()

    def _rendered(self) -> None:
        self._rendering = False
        self._keep_cursor_in_sight()

    def _keep_cursor_in_sight(self) -> None:
        # The badge or the preview may have taken lines from the table.
        table = self.query_one(DataTable)
        if self.records:
            table.move_cursor(row=table.cursor_row, animate=False, scroll=True)

    def _status(self) -> None:
        badge = self.query_one("#badge", Static)
        show = bool(self.new_count) and not self.following
        if show != badge.has_class("-show"):
            badge.set_class(show, "-show")
            self.call_after_refresh(self._keep_cursor_in_sight)  # the table got shorter
        shown = f"{self.new_count:,}" if self.new_count < 10_000 else "10000+"
        badge.update(f"▼ {shown} new records — G jumps to the newest, f follows")
        mode = "FOLLOWING" if self.following else "paused (f to follow)"
        flt = f" · filter {self.flt.describe()}" if not self.flt.empty else ""
        if not self.records:
            hint = "No log records match." if not self.flt.empty else "No log records yet."
            self.status(f"{hint}{flt} · F shows log files")
        else:
            older = " · ↑ at the top loads older" if self.more_before else " · start of log"
            self.status(f"{len(self.records):,} shown · {mode}{flt}{older}")

    def on_new_log_count(self, message: NewLogCount) -> None:
        self.new_count = message.count
        self._status()

    def _current(self) -> LogRecord | None:
        table = self.query_one(DataTable)
        if not self.records or table.cursor_row >= len(self.records):
            return None
        return self.records[table.cursor_row]

    @on(DataTable.RowHighlighted)
    def _moved(self, event: DataTable.RowHighlighted) -> None:
        table = self.query_one(DataTable)
        if self._rendering or event.cursor_row != table.cursor_row:
            return  # the table's own moves while it was redrawn (maybe delivered late)
        self._row = event.cursor_row
        last = len(self.records) - 1
        if event.cursor_row < last and self.following:
            self.following = False
            self._status()
        if event.cursor_row == 0 and self.more_before and not self._loading and self.records:
            self._loading = True
            self._fetch("prepend", self.records[0].cursor)
        self._preview()

    def _preview(self) -> None:
        """The selected row's full message (the cursor's row is always the visible one)."""
        preview = self.query_one("#preview", Static)
        record = self._current()
        if self.wrap and record is not None:
            preview.update(Text(record.message[:4000]))
            self.call_after_refresh(self._keep_cursor_in_sight)

    @on(DataTable.RowSelected)
    def _open(self) -> None:
        self.action_detail()

    def action_toggle_follow(self) -> None:
        self.following = not self.following
        if self.following:
            self.new_count = 0
            self._fetch("replace", None)
        self._status()

    def action_tail(self) -> None:
        self.following = True
        self.new_count = 0
        self._fetch("replace", None)

    def action_toggle_wrap(self) -> None:
        self.wrap = not self.wrap
        self.query_one("#preview").display = self.wrap
        self._preview()

    def action_toggle_timestamps(self) -> None:
        self.show_ts = not self.show_ts
        self._fit_columns()  # columns_changed() redraws the rows where they were

    def action_copy(self) -> None:
        record = self._current()
        if record is not None:
            self.copy(record.as_json(), "Record")

    def action_detail(self) -> None:
        record = self._current()
        if record is not None:
            self._load_detail(record.id)

    @work(thread=True, exclusive=True, exit_on_error=False, group="log-detail")
    def _load_detail(self, record_id: int) -> None:
        self.post_message(LogDetailLoaded(self.ctx.services.logs.detail(record_id)))

    def on_log_detail_loaded(self, message: LogDetailLoaded) -> None:
        record = message.record
        if record is None:
            self.notify("That record is gone (cleared or retention).", severity="warning")
            return

        def closed(result: str | None) -> None:
            if result == "copy":
                self.copy(record.as_json(), "Record")

        self.app.push_screen(
            TextViewDialog(f"Log record {record.id}", render_record(record)), closed
        )

    def action_jump_time(self) -> None:
        def chosen(value: str | None) -> None:
            at = parse_time(value) if value else None
            if at is not None:
                self.following = False
                self._fetch("at", None, at)

        self.app.push_screen(
            PromptDialog(
                "Jump to time (UTC)",
                "YYYY-MM-DD HH:MM[:SS] — shows records from then on",
                check=lambda v: None if parse_time(v) else "Use YYYY-MM-DD HH:MM (UTC).",
            ),
            chosen,
        )

    def action_export(self) -> None:
        stamp = self.ctx.clock().strftime("%Y%m%d-%H%M%S")
        self._export(self.ctx.export_dir / f"logs-{self.ctx.client}-{stamp}.zip")

    @work(thread=True, exclusive=True, exit_on_error=False, group="logs-export")
    def _export(self, dest: object) -> None:
        from pathlib import Path

        assert isinstance(dest, Path)
        count = self.ctx.services.logs.export_zip(self.flt, dest)
        self.post_message(Done(f"Exported {count:,} records to {dest}", refresh=False))

    def on_done(self, message: Done) -> None:
        self.notify(message.text)

    def action_files(self) -> None:
        self.pulse.switch_to("log_files")


def render_record(record: LogRecord) -> str:
    head = (
        f"time     {record.ts.astimezone(UTC).isoformat()}\n"
        f"level    {record.level}\n"
        f"job      {record.job or '—'}\n"
        f"run      {record.run_id if record.run_id is not None else '—'}\n"
        f"logger   {record.logger}\n\n"
    )
    message = record.message
    try:
        parsed = json.loads(message)
        message = json.dumps(parsed, indent=2, ensure_ascii=False)
    except ValueError:
        pass
    extra = json.dumps(record.extra, indent=2, ensure_ascii=False, default=str)
    return head + f"message\n{message[:100_000]}\n\nextra\n{extra[:100_000]}"
