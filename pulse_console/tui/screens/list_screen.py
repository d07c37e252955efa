"""The skeleton list screens share: load → loaded → filter → redraw, and polling.

A screen says what to read (`fetch`, in a thread worker) and how to draw it (`redraw`,
keeping the rows that `matches` the `/` filter); this class runs the cycle around them.

With `POLL_SECONDS` set, a live console loads again that long after each successful load:
the timer is re-armed by the load (dolphie's `set_timer`, not a fixed interval), so a slow
load never stacks up behind itself, and a failed load does not re-arm (its error is shown;
`r` or coming back tries again). No poll runs while the screen is hidden behind another
screen or a dialog: leaving it stops the timer, and coming back reloads, which re-arms it.
"""

from __future__ import annotations

from typing import Any, ClassVar, Generic, TypeVar

from textual import on, work
from textual.binding import BindingType
from textual.timer import Timer
from textual.widgets import DataTable

from pulse_console.tui.messages import Done, ListLoaded
from pulse_console.tui.screens.base import PulseScreen

T = TypeVar("T")


class ListScreen(PulseScreen, Generic[T]):
    """A screen that shows one loaded value (usually rows) through the `/` filter."""

    POLL_SECONDS: ClassVar[float | None] = None  # reload this long after each load (live)
    # No bindings of its own: without this, PulseScreen would give it the app's, and
    # Textual would list those before each subclass's own in the footer.
    BINDINGS: ClassVar[list[BindingType]] = []

    def __init__(self, empty: T) -> None:
        super().__init__()
        self.data: T = empty  # what the last load returned (`empty` until then)
        self.loads = 0  # successful loads so far
        self._poll_timer: Timer | None = None

    def fetch(self) -> T:
        """Read the screen's data. Runs in a thread worker: may block, must not touch widgets."""
        raise NotImplementedError

    def redraw(self) -> None:
        """Draw `self.data` (rows that `matches` the filter) and say so in the status line."""
        raise NotImplementedError

    # --- the cycle --------------------------------------------------------------------

    def reload(self) -> None:
        self._load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="list-load")
    def _load(self) -> None:
        self.post_message(ListLoaded(self.fetch()))

    @on(ListLoaded)
    def _loaded(self, message: ListLoaded[T]) -> None:
        message.stop()
        self.loads += 1
        self.loaded(message.data)
        self._arm_poll()

    def loaded(self, data: T) -> None:
        """Keep fresh data and draw it (a screen that keeps more state extends this)."""
        self.data = data
        self.redraw()

    def apply_filter(self, text: str) -> None:
        self.redraw()

    def columns_changed(self) -> None:
        if self.data:
            self.redraw()

    def on_done(self, message: Done) -> None:
        self.notify(message.text)
        if message.refresh:
            self.reload()

    # --- polling ----------------------------------------------------------------------

    def _arm_poll(self) -> None:
        if self.POLL_SECONDS is None or not self.ctx.live:
            return
        self._stop_poll()
        self._poll_timer = self.set_timer(self.POLL_SECONDS, self._polled, name="list-poll")

    def _stop_poll(self) -> None:
        if self._poll_timer is not None:
            self._poll_timer.stop()
            self._poll_timer = None

    def _polled(self) -> None:
        self._poll_timer = None
        # is_current also holds under a dialog (the screen still shows behind it).
        if self.is_current and not self.app.screen.is_modal:
            self.reload()

    def on_screen_suspend(self) -> None:
        self._stop_poll()  # hidden: resuming reloads, and that load re-arms the poll

    # --- helpers for the rows ---------------------------------------------------------

    def cursor_key(self, table: DataTable[Any]) -> str | None:
        """The row key under `table`'s cursor (None when the table is empty)."""
        if table.row_count == 0:
            return None
        value = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return None if value is None else str(value)
