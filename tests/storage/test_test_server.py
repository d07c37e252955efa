"""The test server finder says when it passes over the local server (issue 14): a suite that
silently ran on the embedded server instead of CI's would test the wrong PostgreSQL."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from storage import testing


def test_passing_over_the_local_server_is_said_with_why(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PULSE_TEST_DATABASE_URL", raising=False)
    monkeypatch.setattr(testing, "LOCAL_URL", "postgresql+psycopg://postgres@127.0.0.1:1/test")
    monkeypatch.setattr(testing, "_passed_over", [])
    # Starting a real embedded server takes long; what matters is that it was chosen.
    monkeypatch.setattr(testing, "start_embedded", lambda data_dir: SimpleNamespace(url="emb"))
    assert testing.find_test_server() == "emb"
    note = testing.fallback_note()
    assert note is not None
    assert note.startswith("127.0.0.1:1 did not answer (") and "embedded server" in note


def test_nothing_is_said_when_the_local_server_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PULSE_TEST_DATABASE_URL", raising=False)
    monkeypatch.setattr(testing, "_passed_over", [])
    if testing._refusal(testing.LOCAL_URL) is not None:
        pytest.skip("no server on 127.0.0.1:5432 here")
    assert testing.find_test_server() == testing.LOCAL_URL
    assert testing.fallback_note() is None
