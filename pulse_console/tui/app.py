"""The console's App: named screens (`:` to jump), `/` filter, `?` help, `Esc` back.

Screens reach the database only through `pulse_console.services` and the engine only
through the `JobsPort` in `ctx.jobs`, both from thread workers.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

from textual import on, work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.worker import Worker, WorkerState

from pulse_console.services import connectivity
from pulse_console.tui.busy_watch import BusyWatch
from pulse_console.tui.context import ConsoleContext
from pulse_console.tui.db_watch import DatabaseWatch
from pulse_console.tui.dialogs.choose import ChooseDialog
from pulse_console.tui.dialogs.confirm import ConfirmDialog
from pulse_console.tui.dialogs.error import ErrorDialog
from pulse_console.tui.dialogs.help import HelpDialog
from pulse_console.tui.hangup import exit_on_signals
from pulse_console.tui.keymap import ALIASES, SCREENS, bindings_for, check_keymap
from pulse_console.tui.messages import ClientOpened, DatabaseReachability, SettingsLoaded
from pulse_console.tui.palette import PulseCommands
from pulse_console.tui.ports import JobView
from pulse_console.tui.screens.audit import AuditScreen
from pulse_console.tui.screens.base import PulseScreen
from pulse_console.tui.screens.clients import ClientsScreen
from pulse_console.tui.screens.flow import FlowScreen
from pulse_console.tui.screens.health import HealthScreen
from pulse_console.tui.screens.integrations import IntegrationsScreen
from pulse_console.tui.screens.jobs import JobsScreen
from pulse_console.tui.screens.log_files import LogFilesScreen
from pulse_console.tui.screens.logs import LogsScreen
from pulse_console.tui.screens.metrics import MetricsScreen
from pulse_console.tui.screens.runs import RunsScreen
from pulse_console.tui.screens.settings import SettingsScreen
from pulse_console.tui.screens.workers import WorkersScreen
from pulse_console.tui.widgets.common.connection_banner import ConnectionBanner
from pulse_console.tui.widgets.common.context_header import ContextHeader

log = logging.getLogger(__name__)


class PulseApp(App[None]):
    """Pulse Console."""

    CSS_PATH = str(Path(__file__).with_name("app.tcss"))
    TITLE = "Pulse Console"
    COMMANDS = App.COMMANDS | {PulseCommands}
    MODES = {
        "jobs": JobsScreen,
        "runs": RunsScreen,
        "logs": LogsScreen,
        "log_files": LogFilesScreen,
        "integrations": IntegrationsScreen,
        "flow": FlowScreen,
        "metrics": MetricsScreen,
        "health": HealthScreen,
        "settings": SettingsScreen,
        "audit": AuditScreen,
        "clients": ClientsScreen,
        "workers": WorkersScreen,
    }
    BINDINGS: ClassVar[list[BindingType]] = [
        *bindings_for("app"),
        *[Binding(alias, "noop", show=False) for alias in ALIASES.values()],
    ]

    def __init__(self, ctx: ConsoleContext, *, start: str = "jobs") -> None:
        super().__init__()
        self.ctx = ctx
        self._start = start
        self._engine_stop: asyncio.Event | None = None
        self._undo_signals: Callable[[], None] | None = None
        self._history: list[str] = []
        self.selected_job: str | None = None
        self.pending_log_query: str | None = None
        self.worker_label = "embedded"
        self.job_rows: list[JobView] = []
        self.keymap = check_keymap(ctx.keymap)
        self.db_watch = DatabaseWatch(self, ctx.services, ctx.probe_seconds)
        self.busy_watch = BusyWatch(self)

    def on_mount(self) -> None:
        if self.ctx.signals:
            self._undo_signals = exit_on_signals(self)
        if self.keymap:
            self.set_keymap(self.keymap)
        self.switch_to(self._start, remember=False)
        self._load_settings()
        if self.ctx.live:
            self.db_watch.start()
            self.busy_watch.start(self._show_busy)
        self._start_engine_host()

    def _start_engine_host(self) -> None:
        host = getattr(self.ctx.jobs, "host", None)
        if self.ctx.live and callable(host):
            self._engine_stop = asyncio.Event()
            self.run_worker(host(self._engine_stop), group="engine-host", exit_on_error=False)

    async def on_unmount(self) -> None:
        if self._engine_stop is not None:
            self._engine_stop.set()
        # Closing the port checkpoints a running embedded job and ends its event stream,
        # whose thread the loop's executor would otherwise wait for forever on exit.
        await asyncio.to_thread(self.ctx.jobs.close)
        if self._undo_signals is not None:
            self._undo_signals()

    # --- navigation -------------------------------------------------------------------

    def switch_to(self, name: str, *, remember: bool = True) -> None:
        if name not in SCREENS:
            return
        if remember and self.current_mode != name:
            self._history.append(self.current_mode)
        if name == "logs" and self.pending_log_query is None:
            self.pending_log_query = ""  # arriving fresh: no filter left from an earlier visit
        self.switch_mode(name)

    # --- switching client ---------------------------------------------------------------

    def switch_client(self, name: str) -> None:
        """Work on client `name`: its services and jobs, every screen built afresh."""
        if self.ctx.open_client is None:
            self.notify("This console cannot switch clients.", severity="warning")
            return
        self._open_client(name)

    @work(thread=True, exclusive=True, exit_on_error=False, group="switch-client")
    def _open_client(self, name: str) -> None:
        assert self.ctx.open_client is not None
        services, jobs = self.ctx.open_client(name)  # refuses a client removed meanwhile
        self.post_message(ClientOpened(name, services, jobs))

    async def on_client_opened(self, message: ClientOpened) -> None:
        old_jobs = self.ctx.jobs
        if self._engine_stop is not None:
            self._engine_stop.set()  # the old client's embedded orchestrator stops
            self._engine_stop = None
        self.ctx.services, self.ctx.jobs = message.services, message.jobs
        self.selected_job, self.job_rows, self.pending_log_query = None, [], None
        self._history.clear()
        if self.current_mode == "jobs":
            self.switch_mode("clients")
        left = self.current_mode
        for mode in [m for m in self.MODES if m != left]:
            await self._rebuild_mode(mode)
        self.switch_mode("jobs")
        await self._rebuild_mode(left)
        self._start_engine_host()
        await asyncio.to_thread(old_jobs.close)
        self.notify(f"This console now works on client {message.client}.")

    async def _rebuild_mode(self, mode: str) -> None:
        """Drop the mode's screens (built for the old client); the next visit builds anew."""
        await self.remove_mode(mode)
        self.add_mode(mode, self.MODES[mode])

    def action_jump(self) -> None:
        options = [(name, f"{title}  (:{name})") for name, title in SCREENS.items()]

        def chosen(name: str | None) -> None:
            if name:
                self.switch_to(name)

        self.push_screen(ChooseDialog("Go to screen", options), chosen)

    def action_go_back(self) -> None:
        # Esc clears a screen's filter first (the filter bar says "Esc clears"), then goes back.
        if isinstance(self.screen, PulseScreen) and self.screen.clear_filter():
            return
        if len(self.screen_stack) > 1:
            self.pop_screen()
        elif self._history:
            self.switch_mode(self._history.pop())

    def action_help(self) -> None:
        scope = self.screen.SCOPE if isinstance(self.screen, PulseScreen) else "app"
        self.push_screen(HelpDialog(scope, self.keymap))

    def action_filter(self) -> None:
        if isinstance(self.screen, PulseScreen):
            self.screen.action_filter()

    def action_refresh(self) -> None:
        if isinstance(self.screen, PulseScreen):
            self.screen.reload()

    def action_noop(self) -> None:
        """Alias keys land here unless a screen binds them."""

    def action_quit_console(self) -> None:
        running = [j.name for j in self.job_rows if j.status == "RUNNING"]
        if not running or self.worker_label != "embedded":
            self.exit()
            return

        def answer(yes: bool | None) -> None:
            if yes:
                self.exit()

        self.push_screen(
            ConfirmDialog(
                "Quit while a job runs?",
                f"{', '.join(running)} is running in this console. Quitting stops it at its "
                "next checkpoint; the orchestrator resumes it from there next time.",
                confirm="Quit",
                danger=True,
            ),
            answer,
        )

    # --- settings (theme) -------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="settings")
    def _load_settings(self) -> None:
        self.post_message(SettingsLoaded(self.ctx.services.settings.load()))

    def on_settings_loaded(self, message: SettingsLoaded) -> None:
        self.apply_theme(message.settings.theme)

    def apply_theme(self, theme: str) -> None:
        if theme in self.available_themes:
            self.theme = theme

    # --- database connection ----------------------------------------------------------

    def on_database_reachability(self, message: DatabaseReachability) -> None:
        if not self.db_watch.update(message.problem):
            return
        lost = message.problem is not None
        if lost:
            log.warning("database unreachable: %s", message.problem)
        else:
            log.info("database reachable again")
        for screen in self.screen_stack:
            for banner in screen.query(ConnectionBanner):
                banner.show(lost)
        if not lost and isinstance(self.screen, PulseScreen):
            self.screen.reload()

    def _show_busy(self, label: str) -> None:
        if not self.screen_stack:  # the watch's timer can fire while the app is closing
            return
        for header in self.screen.query(ContextHeader):
            header.busy = label

    # --- errors -----------------------------------------------------------------------

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            self.show_worker_error(event.worker)

    def show_worker_error(self, worker: Worker[object]) -> None:
        """Log a failed worker and tell the operator (screens forward theirs: StateChanged
        does not bubble)."""
        error = worker.error
        if error is None:
            return
        if connectivity.is_connection_error(error):
            self.db_watch.check()  # a banner until it is back, not a dialog per screen
            return
        log.error("worker %s failed", worker.name, exc_info=error)
        title = getattr(error, "title", None) or "Something went wrong"
        message = getattr(error, "message", None) or str(error) or type(error).__name__
        self.push_screen(ErrorDialog(title, message))
