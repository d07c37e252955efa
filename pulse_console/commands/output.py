"""What the commands print: one filter every CLI printer goes through.

Text printed by a command may come from the database or from a server (names typed in by
someone else, error bodies, log messages). `cli.main` runs every command but the console
with stdout and stderr behind `safe_output`, so whatever a printer writes is made safe:
every secret this process holds is redacted (`connectors.secret.redact`), ANSI escape
sequences are removed, and any other control character (a carriage return, a bell,
bidirectional overrides) is shown escaped, e.g. `\\x07`, instead of acting on the terminal.
Newlines and tabs stay.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO, cast

from connectors.secret import redact

# CSI (ESC [ … final byte), OSC (ESC ] … BEL or ESC \), and two-byte ESC sequences.
_ANSI = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"
    r"|(?:\x1b\]|\x9d)[^\x07\x1b]*(?:\x07|\x1b\\)?"
    r"|\x1b[@-_]?"
)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def terminal_safe(text: str) -> str:
    """`text` without secrets, escape sequences or control characters (but `\\n`, `\\t`)."""
    text = _ANSI.sub("", redact(text))
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


class SafeStream:
    """A text stream that writes `terminal_safe` text to the stream it wraps (`raw`)."""

    def __init__(self, raw: TextIO) -> None:
        self.raw = raw

    def write(self, text: str) -> int:
        if getattr(self.raw, "closed", False):  # a log handler outlived its stream: drop it
            return 0
        return self.raw.write(terminal_safe(text))

    def flush(self) -> None:
        if not getattr(self.raw, "closed", False):
            self.raw.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.raw, name)


@contextmanager
def safe_output() -> Iterator[None]:
    """Run the body with sys.stdout and sys.stderr made terminal-safe."""
    out, err = sys.stdout, sys.stderr
    sys.stdout = cast(TextIO, SafeStream(out))
    sys.stderr = cast(TextIO, SafeStream(err))
    try:
        yield
    finally:
        sys.stdout, sys.stderr = out, err


def raw_stream(stream: TextIO) -> TextIO:
    """The terminal under a `SafeStream`, for a printer that writes its own escape codes."""
    return cast(TextIO, getattr(stream, "raw", stream))


def error(message: str) -> None:
    """The one line an operator sees when a command fails (the exit code says how)."""
    print(f"pulse-console: error: {terminal_safe(message)}", file=sys.stderr)
