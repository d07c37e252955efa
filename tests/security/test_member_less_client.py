"""Issue 14: which clients a role may see is one rule, whoever asks. A client nobody is a
member of yet is visible to a login that sees every client (`pulse_all_clients`: the
`pulse_all_rows` policy lets it read every client's rows) and to no one else — as the API
(acting as a role), a worker (choosing the clients it serves) and `whoami` (the console's
header) all answer."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from pulse_console.config import Settings
from pulse_console.engine.pool import PoolOptions, PoolProcess
from pulse_console.pipelines.registry import PipelineRegistry
from pulse_console.services.service_face import ServiceFace
from storage.db import Database
from storage.identity import whoami
from storage.tenancy import HiddenClient, NotAMember
from storage.testing import scratch_login

ACME, EMPTY = 1, 2


@pytest.fixture
def clients(engine: Engine) -> Engine:
    """acme, and `empty`: a client without a single member."""
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO clients (id, name) VALUES (1, 'acme'), (2, 'empty')"))
        conn.execute(text("DELETE FROM client_members WHERE client_id = 2"))
    return engine


def api_face(login: Engine, name: str, tmp_path: Path) -> ServiceFace:
    """The API's face acting as the login's own role (as it acts as a token's)."""
    database = Database(engine=login, embedded=False).acting_as(name)
    return ServiceFace(database, Settings(data_dir=tmp_path), role=name)


def worker_clients(login: Engine, tmp_path: Path, only: tuple[str, ...] | None) -> list[str]:
    """The clients a pool worker on the login serves (`--client` names them, or all)."""
    settings = Settings(data_dir=tmp_path)
    options = PoolOptions.from_settings(settings, "w", clients=only)
    database = Database(engine=login, embedded=False)
    process = PoolProcess(database, settings, PipelineRegistry(order=()), options)
    return [name for _, name in process.clients]


def test_a_login_that_sees_every_client_sees_one_without_members(
    clients: Engine, tmp_path: Path
) -> None:
    name = "t_allclients_member_less"
    with scratch_login(clients, "admin", all_clients=True, name=name) as login:
        api_face(login, name, tmp_path).require_client("empty")  # the API: no HiddenClient
        assert worker_clients(login, tmp_path, None) == ["acme", "empty"]
        assert worker_clients(login, tmp_path, ("empty",)) == ["empty"]
        assert whoami(login).clients == ("acme", "empty")


def test_a_member_of_one_client_sees_neither_another_nor_one_without_members(
    clients: Engine, tmp_path: Path
) -> None:
    name = "t_acme_only_member_less"
    with scratch_login(clients, "admin", clients=(ACME,), name=name) as login:
        face = api_face(login, name, tmp_path)
        face.require_client("acme")
        with pytest.raises(HiddenClient):
            face.require_client("empty")
        assert worker_clients(login, tmp_path, None) == ["acme"]
        assert whoami(login).clients == ("acme",)
        with pytest.raises(NotAMember):
            worker_clients(login, tmp_path, ("empty",))
