"""What every console screen shares: header, `/` filter bar, status line, footer, refresh."""

from __future__ import annotations

from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.screen import Screen
from textual.widgets import DataTable
from textual.worker import Worker, WorkerState

from pulse_console.services.roles import refusal
from pulse_console.tui.context import ConsoleContext
from pulse_console.tui.keymap import bindings_for, commands_for, scope_title
from pulse_console.tui.shell import ConsoleShell
from pulse_console.tui.widgets.common.columns import ColumnSets
from pulse_console.tui.widgets.common.connection_banner import ConnectionBanner
from pulse_console.tui.widgets.common.console_footer import ConsoleFooter
from pulse_console.tui.widgets.common.context_header import ContextHeader
from pulse_console.tui.widgets.common.filter_bar import FilterBar
from pulse_console.tui.widgets.common.status_line import StatusLine

LOADING = "Loading…"


class PulseScreen(Screen[None]):
    """A named console screen. Subclasses set SCOPE and implement `compose_body`/`reload`."""

    SCOPE: ClassVar[str] = "app"
    # Says "Loading…" in the status line until its first data arrives (its redraw says more).
    BUSY: ClassVar[bool] = False
    # A table whose columns follow the terminal's width: its selector and column sets.
    COLUMNS: ClassVar[tuple[str, ColumnSets] | None] = None
    FILTER_HINT: ClassVar[str] = "filter rows (Enter applies, Esc clears)"
    BINDINGS: ClassVar[list[BindingType]] = []

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # Before super(): Textual merges BINDINGS when the subclass is created.
        if "BINDINGS" not in cls.__dict__:
            cls.BINDINGS = list(bindings_for(cls.SCOPE))
        super().__init_subclass__(**kwargs)

    filter_text: str = ""
    _waiting: bool = False  # the status line still says LOADING
    _failing: str | None = None  # the error the last failed worker raised, until a redraw

    @property
    def pulse(self) -> ConsoleShell:
        assert isinstance(self.app, ConsoleShell)
        return self.app

    @property
    def ctx(self) -> ConsoleContext:
        return self.pulse.ctx

    def compose(self) -> ComposeResult:
        header = ContextHeader(
            self.ctx.client,
            self.ctx.database_label,
            operator=self.ctx.operator,
            id="context-header",
        )
        header.screen_title = scope_title(self.SCOPE)
        header.worker = self.pulse.worker_label
        yield header
        yield ConnectionBanner()
        yield from self.compose_body()
        yield FilterBar(self.FILTER_HINT, id="filter-bar")
        yield StatusLine(id="status")
        yield ConsoleFooter()

    def compose_body(self) -> ComposeResult:
        yield from ()

    def on_screen_resume(self) -> None:
        self.query_one(ContextHeader).worker = self.pulse.worker_label
        self.query_one(ConnectionBanner).show(self.pulse.db_watch.problem is not None)
        self._fit_columns()  # the terminal may have been resized while another screen showed
        self.reload()

    def on_resize(self) -> None:
        self._fit_columns()

    def column_sets(self) -> tuple[str, ColumnSets] | None:
        """The table and its column sets (screens whose columns change override this)."""
        return self.COLUMNS

    def _fit_columns(self) -> None:
        chosen = self.column_sets()
        if chosen is not None:
            selector, sets = chosen
            if sets.fit(self.query_one(selector, DataTable), self.app.size.width):
                self.columns_changed()

    def columns_changed(self) -> None:
        """The table's columns were rebuilt (and its rows dropped): draw the rows again."""

    def reload(self) -> None:
        """Fetch this screen's data (in a worker)."""

    def on_mount(self) -> None:
        self._fit_columns()
        if self.BUSY:
            self.status(LOADING)  # until the first data arrives and the screen says more

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        # StateChanged does not bubble: the app would never hear of this screen's failures.
        if event.state != WorkerState.ERROR:
            return
        failure = event.worker.error
        error = getattr(failure, "message", None) or str(failure)  # the operator's wording
        repeated = error == self._failing
        if not repeated:
            self.pulse.show_worker_error(event.worker)
        if self._waiting or repeated:
            # Closing the dialog resumes the screen, which reloads: the same failure again
            # goes to the status line, not into another dialog the operator cannot leave.
            self.status(f"Failed: {error} · r tries again")
        self._failing = error

    @property
    def waiting_for_data(self) -> bool:
        """True until the first load answered (tests wait on it before a snapshot)."""
        return self._waiting

    def status(self, text: str) -> None:
        self._waiting = text == LOADING
        self._failing = None  # a redraw after a good load; a failure sets it after this
        self.query_one("#status", StatusLine).update(text)

    def copy(self, text: str, what: str) -> None:
        """Copy to the clipboard and say so (OSC 52 gives no answer of its own)."""
        self.app.copy_to_clipboard(text)
        self.notify(f"{what} copied to the clipboard (OSC 52).")

    def action_refresh(self) -> None:
        self.reload()

    def action_filter(self) -> None:
        self.query_one(FilterBar).open()

    def show_filter(self, text: str) -> None:
        """Put `text` in the filter bar (shown while it holds one) and apply it."""
        bar = self.query_one(FilterBar)
        bar.value = text
        bar.display = bool(text)
        self.filter_text = text
        self.apply_filter(text)

    def clear_filter(self) -> bool:
        """Esc with a filter applied clears it and stays here; False when there was none."""
        bar = self.query_one(FilterBar)
        if not (self.filter_text or bar.display):
            return False
        bar.action_cancel()
        return True

    @on(FilterBar.Applied)
    def _filter_applied(self, event: FilterBar.Applied) -> None:
        self.filter_text = event.text
        self.apply_filter(event.text)

    def apply_filter(self, text: str) -> None:
        """Narrow the table to rows matching `text` (default: reload and let render filter)."""
        self.reload()

    def matches(self, *cells: object) -> bool:
        """Case-insensitive: does any word of the filter miss every cell? Then no."""
        if not self.filter_text:
            return True
        haystack = " ".join(str(c) for c in cells).lower()
        return all(word in haystack for word in self.filter_text.lower().split())

    def disabled_reason(self, action: str) -> str | None:
        """Why an action cannot run now (None = it can); the palette and keys explain it."""
        return None

    def role_reason(self, action: str) -> str | None:
        """Why the login's role may not run `action` ("needs role user"), else None."""
        name = action.split("(")[0]
        for command in commands_for(self.SCOPE):
            if command.action.split("(")[0] == name:
                return refusal(self.ctx.role, command.needs)
        return None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # None: the key is shown disabled in the footer and does nothing.
        return None if self.role_reason(action) else True
