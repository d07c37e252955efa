"""One log file in the virtual line viewer: the tail at once, full index in a worker."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.widgets import Static

from pulse_console.services.log_files import LogFile
from pulse_console.tui.format import size
from pulse_console.tui.messages import FileIndexed, IndexProgress
from pulse_console.tui.screens.base import PulseScreen
from pulse_console.tui.widgets.log_files.file_lines import FileLines

TAIL = 500


class FileViewScreen(PulseScreen):
    SCOPE: ClassVar[str] = "file_view"

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        self.log_file = LogFile(path)
        self.wrap = False

    def compose_body(self) -> ComposeResult:
        yield FileLines(self.log_file, id="lines")
        yield Static(id="preview", classes="panel")

    def on_mount(self) -> None:
        self.query_one("#preview").display = False
        lines = self.query_one(FileLines)
        lines.show_tail(self.log_file.tail(TAIL))
        lines.focus()
        self.status(f"{self.path.name} · {size(self.log_file.size)} · indexing…")
        self._index()

    def on_screen_resume(self) -> None:
        """The file is loaded once; nothing to refresh on resume."""

    @work(thread=True, exclusive=True, exit_on_error=False, group="file-index")
    def _index(self) -> None:
        def progress(done: int, total: int) -> None:
            self.post_message(IndexProgress(done, total))

        count = self.log_file.build_index(progress=progress)
        self.post_message(FileIndexed(count))

    def on_index_progress(self, message: IndexProgress) -> None:
        pct = 100 * message.done / message.total if message.total else 100
        self.status(f"{self.path.name} · {size(self.log_file.size)} · indexing {pct:.0f}%")

    def on_file_indexed(self, message: FileIndexed) -> None:
        self.query_one(FileLines).indexed()
        self.status(
            f"{self.path.name} · {size(self.log_file.size)} · {message.line_count:,} lines"
            " · w wraps the current line · Esc back"
        )

    def action_toggle_wrap(self) -> None:
        self.wrap = not self.wrap
        preview = self.query_one("#preview", Static)
        preview.display = self.wrap
        if self.wrap:
            lines = self.query_one(FileLines)
            raw = lines.line(lines.cursor)
            with contextlib.suppress(ValueError):
                raw = json.dumps(json.loads(raw), indent=2, ensure_ascii=False)
            preview.update(Text(raw[:8000]))

    def action_tail(self) -> None:
        self.query_one(FileLines).end()

    def action_top(self) -> None:
        self.query_one(FileLines).top()
