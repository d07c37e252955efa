"""What a screen asks of the app it runs in, as a Protocol of its own.

Screens and the command palette need the app's context, its navigation and the little
state screens share (the selected job, a log query handed to :logs, the worker label); the
app imports every screen. Naming that need here, instead of importing `PulseApp`, keeps
the imports one-way: app -> screens -> shell.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from textual.worker import Worker

from pulse_console.tui.context import ConsoleContext
from pulse_console.tui.db_watch import DatabaseWatch
from pulse_console.tui.ports import JobView


@runtime_checkable
class ConsoleShell(Protocol):
    """The console app as its screens see it (`PulseApp` is the one implementation)."""

    ctx: ConsoleContext
    db_watch: DatabaseWatch
    selected_job: str | None  # the Jobs cursor, which Run history opens on
    pending_log_query: str | None  # the filter the Logs screen applies next ("" = none)
    worker_label: str  # "embedded", "attached · host" or "none", for every header
    job_rows: list[JobView]  # the last jobs shown (quitting asks while one runs)

    def switch_to(self, name: str, *, remember: bool = True) -> None: ...

    def switch_client(self, name: str) -> None: ...

    def show_worker_error(self, worker: Worker[object]) -> None: ...

    def apply_theme(self, theme: str) -> None: ...
