"""A terminal an operator would use: the real binary in a tmux pane on a private server.

`TmuxTerminal` runs one command in a fixed-size pane (xterm-256color) on its own socket
(`tmux -L`), types keys into it and reads the screen back. Waits poll the screen against a
deadline instead of sleeping fixed times. A shell around the program outlives it, so its
exit status and the terminal state it left behind can still be read.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

TMUX = shutil.which("tmux")

EXIT_MARK = "pulse-console exited: "
CONF = """\
set -g default-terminal xterm-256color
set -g status off
set -g history-limit 0
"""


class TmuxTerminal:
    def __init__(self, workdir: Path, *, width: int = 100, height: int = 32) -> None:
        assert TMUX is not None
        self.socket = f"pulse-e2e-{uuid.uuid4().hex[:10]}"
        self.width, self.height = width, height
        self.conf = workdir / "tmux.conf"
        self.conf.write_text(CONF)
        self.session = "console"
        self.socket_path: Path | None = None

    def tmux(self, *args: str, check: bool = True) -> str:
        assert TMUX is not None
        done = subprocess.run(
            [TMUX, "-L", self.socket, "-f", str(self.conf), *args],
            capture_output=True,
            text=True,
            timeout=15,
        )
        if check and done.returncode != 0:
            raise RuntimeError(f"tmux {' '.join(args)}: {done.stderr.strip()}")
        return done.stdout

    def start(self, argv: Sequence[str], env: Mapping[str, str], cwd: Path) -> int:
        """Run `argv` in a new pane with only `env` (plus PATH, locale, TERM) set.

        As from a login shell: a shell runs the program, then prints its exit status and the
        terminal's line settings (`stty -a`) and stays, so the pane shows what the program
        left behind. A clean environment keeps the test runner's COLUMNS/LINES and PULSE_*
        settings out of the console. Returns the program's pid.
        """
        base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}
        variables = {**base, **env, "TERM": "xterm-256color"}
        program = ["env", "-i", *[f"{k}={v}" for k, v in variables.items()], *argv]
        shell = f'"$@"; echo "{EXIT_MARK}$?"; stty -a; exec sleep 3600'
        command = f"cd {shlex.quote(str(cwd))} && exec sh -c {shlex.quote(shell)} sh "
        self.tmux(
            "new-session",
            "-d",
            "-s",
            self.session,
            "-x",
            str(self.width),
            "-y",
            str(self.height),
            command + shlex.join(program),
        )
        self.socket_path = Path(self.query("#{socket_path}"))
        shell_pid = int(self.query("#{pane_pid}"))
        children = Path(f"/proc/{shell_pid}/task/{shell_pid}/children")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            pids = children.read_text().split() if children.exists() else []
            if pids:
                return int(pids[0])
            time.sleep(0.02)
        raise AssertionError(f"the program did not start:\n{self.screen()}")

    def query(self, fmt: str) -> str:
        return self.tmux("display-message", "-p", "-t", self.session, fmt).strip()

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", self.session)

    def send(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", self.session, *keys)

    def type(self, text: str) -> None:
        self.tmux("send-keys", "-t", self.session, "-l", text)

    def wait_for(self, check: Callable[[str], bool], what: str, timeout: float = 30.0) -> str:
        """Poll the screen until `check(screen)` holds; fail with the last screen."""
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if check(screen):
                return screen
            time.sleep(0.1)
        raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}:\n{screen}")

    def wait_for_text(self, text: str, timeout: float = 30.0) -> str:
        return self.wait_for(lambda screen: text in screen, repr(text), timeout)

    def cursor(self) -> tuple[int, int]:
        """Where the terminal's cursor is (column, row): Textual puts it at the caret of the
        focused input, so it shows where typing lands."""
        x, y = self.query("#{cursor_x} #{cursor_y}").split()
        return int(x), int(y)

    def wait_for_cursor(
        self, check: Callable[[int, int], bool], what: str, timeout: float = 30.0
    ) -> tuple[int, int]:
        """Poll the cursor until `check(column, row)` holds (a focus move has landed)."""
        deadline = time.monotonic() + timeout
        where = self.cursor()
        while time.monotonic() < deadline:
            where = self.cursor()
            if check(*where):
                return where
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for the cursor: {what} (at {where})")

    def wait_exit(self, timeout: float = 10.0) -> tuple[int, str]:
        """Wait for the program to end: its exit status and the screen after it."""
        # `stty -a` prints after the mark: wait for its flags too, or a loaded machine shows
        # the mark alone and the line settings look lost.
        screen = self.wait_for(
            lambda s: EXIT_MARK in s and "icanon" in s, "the program to exit", timeout
        )
        match = re.search(rf"{EXIT_MARK}(\d+)", screen)
        assert match is not None
        return int(match.group(1)), screen

    def terminal_modes(self) -> dict[str, str]:
        """What the program left set: alternate screen, cursor, mouse reporting."""
        names = ("alternate_on", "cursor_flag", "mouse_any_flag", "mouse_sgr_flag")
        values = self.query(" ".join(f"#{{{name}}}" for name in names)).split(" ")
        return dict(zip(names, values, strict=True))

    def kill_session(self) -> None:
        """What an SSH drop does to a pane: SIGHUP to its processes, the pty closed."""
        self.tmux("kill-session", "-t", self.session)

    def close(self) -> None:
        self.tmux("kill-server", check=False)
        if self.socket_path is not None:
            self.socket_path.unlink(missing_ok=True)  # tmux leaves it behind


def wait_gone(pid: int, timeout: float) -> float:
    """Wait for a process (not our child) to end; the seconds it took."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return time.monotonic() - started
        stat = Path(f"/proc/{pid}/stat")
        if stat.exists() and stat.read_text().split(") ")[-1].startswith("Z"):
            return time.monotonic() - started
        time.sleep(0.05)
    raise AssertionError(f"process {pid} still alive after {timeout:.0f} s")


def cooked(stty: str) -> bool:
    """`stty -a` shows the line discipline back in cooked mode (icanon, echo, isig on)."""
    flags = set(stty.split())
    return {"icanon", "echo", "isig"} <= flags and not {"-icanon", "-echo", "-isig"} & flags
