"""Locating the shared reference data (``shared/fixtures`` beside the checkout).

``PULSE_FIXTURES`` wins; otherwise the checkout's parents are searched. Tests that need the
fixtures skip when they are absent (a plain clone without the shared folder).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def fixtures_root() -> Path:
    env = os.environ.get("PULSE_FIXTURES")
    if env:
        return Path(env)
    for parent in Path(__file__).resolve().parents:
        for candidate in (parent / "shared" / "fixtures", parent / "fixtures"):
            if (candidate / "devlake").is_dir():
                return candidate
    pytest.skip("shared fixtures not found (set PULSE_FIXTURES)")
