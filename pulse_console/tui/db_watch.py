"""Watching the database connection for the whole app.

A thread worker probes the database (services.connectivity) every few seconds while the
console is live, and at once whenever a screen's worker failed with a connection error; the
answer arrives as a `DatabaseReachability` message. The app turns a lost connection into a
banner and, when the probe answers again, clears it and reloads the screen.
"""

from __future__ import annotations

from typing import Any

from textual.app import App

from pulse_console.services.client_services import ClientServices
from pulse_console.tui.messages import DatabaseReachability


class DatabaseWatch:
    def __init__(self, app: App[Any], services: ClientServices, interval: float) -> None:
        self.app = app
        self.services = services
        self.interval = interval
        self.problem: str | None = None  # the last probe's answer (None: reachable)
        self._probing = False

    def start(self) -> None:
        self.app.set_interval(self.interval, self.check, name="database-watch")

    def check(self) -> None:
        """Probe now, unless a probe is still waiting (e.g. for a connect timeout)."""
        if self._probing:
            return
        self._probing = True
        self.app.run_worker(self._probe, thread=True, group="database-watch", exit_on_error=False)

    def _probe(self) -> None:
        try:
            self.app.post_message(DatabaseReachability(self.services.ping()))
        finally:
            self._probing = False

    def update(self, problem: str | None) -> bool:
        """Record a probe's answer; True when reachability changed."""
        changed = (problem is None) != (self.problem is None)
        self.problem = problem
        return changed
