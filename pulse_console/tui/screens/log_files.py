"""Log files: the log dir's files with size and age; open, export, delete, clear, prune."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.widgets import DataTable

from pulse_console.services.log_files import LogFileInfo
from pulse_console.tui.dialogs.confirm import ConfirmDialog
from pulse_console.tui.dialogs.prompt import PromptDialog
from pulse_console.tui.format import duration, size, when
from pulse_console.tui.messages import Done
from pulse_console.tui.screens.file_view import FileViewScreen
from pulse_console.tui.screens.list_screen import ListScreen
from pulse_console.tui.widgets.common.columns import Column, ColumnSets

_FILE_TAIL = (
    Column("size", "Size", 9),
    Column("modified", "Modified", 16),
    Column("age", "Age", 8),
)
# Fixed widths (auto widths followed the moment rows arrived); the name takes the rest.
FILE_COLUMNS = ColumnSets(
    wide=(Column("file", "File", None), *_FILE_TAIL),
    narrow=(Column("file", "File", None), *_FILE_TAIL),
)


class LogFilesScreen(ListScreen[list[LogFileInfo]]):
    SCOPE: ClassVar[str] = "log_files"
    BUSY: ClassVar[bool] = True
    COLUMNS = ("#files", FILE_COLUMNS)

    def __init__(self) -> None:
        super().__init__([])

    def compose_body(self) -> ComposeResult:
        yield DataTable(id="files", cursor_type="row", zebra_stripes=True)

    def fetch(self) -> list[LogFileInfo]:
        return self.ctx.services.log_files.list_files()

    def redraw(self) -> None:
        now = self.ctx.clock()
        table = self.query_one(DataTable)
        table.clear()
        for info in self.data:
            if not self.matches(info.name):
                continue
            age = duration((now - info.modified).total_seconds())
            cells = {
                "file": info.name,
                "size": size(info.size),
                "modified": when(info.modified),
                "age": age,
            }
            FILE_COLUMNS.row(table, cells, key=str(info.path))
        if not self.data:
            self.status(f"No log files in {self.ctx.log_dir}.")
        else:
            total = sum(f.size for f in self.data)
            self.status(f"{len(self.data)} file(s), {size(total)} in {self.ctx.log_dir}")

    def _selected(self) -> Path | None:
        key = self.cursor_key(self.query_one(DataTable))
        return Path(key) if key else None

    def disabled_reason(self, action: str) -> str | None:
        if action in {"open_file", "export_file", "delete_file", "clear_file"} and not self.data:
            return "no file selected"
        return None

    @on(DataTable.RowSelected)
    def _row(self) -> None:
        self.action_open_file()

    def action_open_file(self) -> None:
        path = self._selected()
        if path is not None:
            self.app.push_screen(FileViewScreen(path))

    def action_export_file(self) -> None:
        path = self._selected()
        if path is not None:
            stamp = self.ctx.clock().strftime("%Y%m%d-%H%M%S")
            self._run("export", path, self.ctx.export_dir / f"{path.name}-{stamp}.zip")

    def _confirm(self, title: str, body: str, confirm: str, then: object) -> None:
        def answer(yes: bool | None) -> None:
            if yes and callable(then):
                then()

        self.app.push_screen(ConfirmDialog(title, body, confirm=confirm, danger=True), answer)

    def action_delete_file(self) -> None:
        path = self._selected()
        if path is not None:
            self._confirm(
                f"Delete {path.name}?",
                "The file is removed from disk; this is audited and cannot be undone.",
                "Delete",
                lambda: self._run("delete", path),
            )

    def action_clear_file(self) -> None:
        path = self._selected()
        if path is not None:
            self._confirm(
                f"Clear {path.name}?",
                "The file is emptied (a writer keeps appending to it); this is audited.",
                "Clear",
                lambda: self._run("clear", path),
            )

    def action_prune(self) -> None:
        def days_chosen(value: str | None) -> None:
            if not value:
                return
            days = int(value)
            victims = self.ctx.services.log_files.older_than(days, self.ctx.clock())
            if not victims:
                self.notify(f"No log files are older than {days} days.")
                return
            names = "\n".join(f"  {v.name} ({size(v.size)})" for v in victims[:15])
            more = f"\n  … and {len(victims) - 15} more" if len(victims) > 15 else ""
            self._confirm(
                f"Delete {len(victims)} file(s) older than {days} days?",
                names + more,
                "Delete",
                lambda: self._run("prune", days),
            )

        self.app.push_screen(
            PromptDialog(
                "Delete log files older than N days",
                "Whole days; you see the files before anything is deleted.",
                str(30),
                check=lambda v: (
                    None if v.isdigit() and int(v) >= 1 else "A whole number of days, 1 or more."
                ),
            ),
            days_chosen,
        )

    @work(thread=True, exclusive=True, exit_on_error=False, group="log-files-cmd")
    def _run(self, what: str, arg: object, dest: Path | None = None) -> None:
        files = self.ctx.services.log_files
        if what == "export" and isinstance(arg, Path) and dest is not None:
            files.export_zip([arg], dest)
            text = f"Exported {arg.name} to {dest}"
        elif what == "delete" and isinstance(arg, Path):
            files.delete(arg)
            text = f"Deleted {arg.name}"
        elif what == "clear" and isinstance(arg, Path):
            files.clear(arg)
            text = f"Cleared {arg.name}"
        elif what == "prune" and isinstance(arg, int):
            names = files.delete_older_than(arg, self.ctx.clock())
            text = f"Deleted {len(names)} file(s) older than {arg} days"
        else:
            return
        self.post_message(Done(text))
