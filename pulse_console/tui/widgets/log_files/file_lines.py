"""A virtual view of a log file's lines: only the visible lines are read and rendered."""

from __future__ import annotations

from functools import lru_cache

from rich.segment import Segment
from rich.style import Style
from textual.geometry import Size
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from pulse_console.services.log_files import LogFile

BLOCK = 128


class FileLines(ScrollView, can_focus=True):
    """Before the index is built it shows the tail; afterwards every line of the file."""

    DEFAULT_CSS = "FileLines { height: 1fr; }"
    BINDINGS = [
        ("up", "move(-1)"),
        ("down", "move(1)"),
        ("k", "move(-1)"),
        ("j", "move(1)"),
        ("pageup", "page(-1)"),
        ("pagedown", "page(1)"),
    ]
    cursor: reactive[int] = reactive(0)

    def __init__(self, log_file: LogFile, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.log_file = log_file
        self.tail: list[str] = []
        self._blocks = lru_cache(maxsize=64)(self._read_block)

    @property
    def line_count(self) -> int:
        return self.log_file.line_count if self.log_file.indexed else len(self.tail)

    def show_tail(self, lines: list[str]) -> None:
        self.tail = lines
        self._resize()
        self.end()

    def indexed(self) -> None:
        self._blocks.cache_clear()
        self._resize()
        self.end()

    def _resize(self) -> None:
        self.virtual_size = Size(self.size.width, self.line_count)
        self.refresh()

    def _read_block(self, block: int) -> list[str]:
        return self.log_file.lines(block * BLOCK, BLOCK)

    def line(self, number: int) -> str:
        if not self.log_file.indexed:
            return self.tail[number] if 0 <= number < len(self.tail) else ""
        block = self._blocks(number // BLOCK)
        offset = number % BLOCK
        return block[offset] if offset < len(block) else ""

    def render_line(self, y: int) -> Strip:
        number = self.scroll_offset.y + y
        if number >= self.line_count:
            return Strip.blank(self.size.width)
        text = self.line(number)[: self.size.width * 4].expandtabs()
        style = Style(reverse=True) if number == self.cursor else Style()
        gutter = Segment(f"{number + 1:>8} ", Style(dim=True))
        strip = Strip([gutter, Segment(text, style)])
        return strip.crop(0, self.size.width).extend_cell_length(self.size.width)

    def watch_cursor(self) -> None:
        self.refresh()

    def _show_cursor(self) -> None:
        top = self.scroll_offset.y
        height = self.size.height
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False)
        elif self.cursor >= top + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False)

    def action_move(self, delta: int) -> None:
        self.cursor = max(0, min(self.line_count - 1, self.cursor + delta))
        self._show_cursor()

    def action_page(self, direction: int) -> None:
        self.action_move(direction * max(1, self.size.height - 1))

    def end(self) -> None:
        self.cursor = max(0, self.line_count - 1)
        self.scroll_to(y=max(0, self.line_count - self.size.height), animate=False)

    def top(self) -> None:
        self.cursor = 0
        self.scroll_to(y=0, animate=False)
