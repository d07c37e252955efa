"""What every console screen shares: header, `/` filter bar, status line, footer, refresh."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.screen import Screen
from textual.widgets import Footer
from textual.worker import Worker, WorkerState

from pulse_console.tui.context import ConsoleContext
from pulse_console.tui.keymap import SCREENS, bindings_for
from pulse_console.tui.widgets.common.context_header import ContextHeader
from pulse_console.tui.widgets.common.filter_bar import FilterBar
from pulse_console.tui.widgets.common.status_line import StatusLine

if TYPE_CHECKING:
    from pulse_console.tui.app import PulseApp


class PulseScreen(Screen[None]):
    """A named console screen. Subclasses set SCOPE and implement `compose_body`/`reload`."""

    SCOPE: ClassVar[str] = "app"
    # The widget that says "Loading..." until this screen's first data arrives (None: none).
    BUSY: ClassVar[str | None] = None
    FILTER_HINT: ClassVar[str] = "filter rows (Enter applies, Esc clears)"
    BINDINGS: ClassVar[list[BindingType]] = []

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # Before super(): Textual merges BINDINGS when the subclass is created.
        if "BINDINGS" not in cls.__dict__:
            cls.BINDINGS = list(bindings_for(cls.SCOPE))
        super().__init_subclass__(**kwargs)

    filter_text: str = ""

    @property
    def pulse(self) -> PulseApp:
        from pulse_console.tui.app import PulseApp

        assert isinstance(self.app, PulseApp)
        return self.app

    @property
    def ctx(self) -> ConsoleContext:
        return self.pulse.ctx

    def compose(self) -> ComposeResult:
        header = ContextHeader(self.ctx.client, self.ctx.database_label, id="context-header")
        header.screen_title = SCREENS.get(self.SCOPE, self.SCOPE)
        header.worker = self.pulse.worker_label
        yield header
        yield from self.compose_body()
        yield FilterBar(self.FILTER_HINT, id="filter-bar")
        yield StatusLine(id="status")
        yield Footer()

    def compose_body(self) -> ComposeResult:
        yield from ()

    def on_screen_resume(self) -> None:
        self.query_one(ContextHeader).worker = self.pulse.worker_label
        self.reload()

    def reload(self) -> None:
        """Fetch this screen's data (in a worker)."""

    def on_mount(self) -> None:
        if self.BUSY is not None:
            self.query_one(self.BUSY).loading = True

    def loaded(self) -> None:
        """The first data arrived (or its load failed): stop saying "Loading..."."""
        if self.BUSY is not None:
            widget = self.query_one(self.BUSY)
            widget.loading = False
            if self.focused is None:  # a loading widget cannot take focus: give it now
                widget.focus()

    @on(Worker.StateChanged)
    def _load_failed(self, event: Worker.StateChanged) -> None:
        # The app shows the error; the screen must not keep loading forever behind it.
        if event.state == WorkerState.ERROR:
            self.loaded()

    def status(self, text: str) -> None:
        self.query_one("#status", StatusLine).update(text)

    def action_refresh(self) -> None:
        self.reload()

    def action_filter(self) -> None:
        self.query_one(FilterBar).open()

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
