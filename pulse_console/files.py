"""Files only their owner may read: the data dir, log files, crash reports (0700/0600).

Logs and crash reports hold job names, server messages and tracebacks; like the key file
they are created private instead of with the umask's usual 0755/0644.
"""

from __future__ import annotations

import io
import os
from logging.handlers import RotatingFileHandler
from pathlib import Path

DIR_MODE, FILE_MODE = 0o700, 0o600


def private_dir(path: Path) -> Path:
    """Create `path` (and missing parents) and make it 0700."""
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    path.chmod(DIR_MODE)
    return path


def write_private(path: Path, text: str) -> None:
    """Write `text` to a new or truncated 0600 file."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    path.chmod(FILE_MODE)


class PrivateRotatingFileHandler(RotatingFileHandler):
    """A RotatingFileHandler whose files (the current one and each new one) are 0600."""

    def _open(self) -> io.TextIOWrapper:
        flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if "a" in self.mode else os.O_TRUNC)
        fd = os.open(self.baseFilename, flags, FILE_MODE)
        os.chmod(self.baseFilename, FILE_MODE)
        return os.fdopen(fd, "a" if "a" in self.mode else "w", encoding=self.encoding)
