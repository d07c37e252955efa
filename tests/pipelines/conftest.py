from __future__ import annotations

import pytest


@pytest.fixture
def suite_login() -> str:
    """This suite runs as a non-owner login under row-level security (tests/conftest.py)."""
    return "app"
