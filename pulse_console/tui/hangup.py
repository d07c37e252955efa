"""Leave the console cleanly when the terminal goes away or a supervisor asks it to stop.

SIGTERM (systemd, `kill`) and SIGHUP (the SSH session dropped, the tmux pane was killed,
the terminal closed) would otherwise end the process on the spot: the terminal left in raw
mode and a running embedded job cut mid-batch, its run left RUNNING until the next start
notices. Here both become an ordinary `app.exit()`, so the app unmounts as on `q`: the
engine stops the running job at its next batch boundary with its checkpoint committed (run
INTERRUPTED, job PENDING, resumed first thing next time) and the terminal is restored.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable
from typing import Any

from textual.app import App

SIGNALS = (signal.SIGTERM, signal.SIGHUP)

_log = logging.getLogger("pulse.console")


def exit_on_signals(app: App[Any]) -> Callable[[], None]:
    """Turn SIGTERM/SIGHUP into `app.exit()` on the app's loop; returns the undo."""
    loop = asyncio.get_running_loop()

    def leave(signum: int) -> None:
        _log.warning("%s: leaving the console", signal.Signals(signum).name)
        app.exit()

    for signum in SIGNALS:
        loop.add_signal_handler(signum, leave, signum)

    def undo() -> None:
        for signum in SIGNALS:
            loop.remove_signal_handler(signum)

    return undo
