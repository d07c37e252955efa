"""Imported by fork_preload_child.py's main module: each import appends this process's pid
to the file ``$PULSE_FORK_MARKER`` names (which processes imported the main's modules)."""

from __future__ import annotations

import os

with open(os.environ["PULSE_FORK_MARKER"], "a", encoding="utf-8") as _marker:
    _marker.write(f"{os.getpid()}\n")
