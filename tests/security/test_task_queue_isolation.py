"""Issue 17: the pool's tasks (procrastinate's tables) are isolated by client like every
other client table (migration 0023), through procrastinate's own API run as real logins."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any, TypeVar

import pytest
from procrastinate import App
from procrastinate.exceptions import ConnectorException
from procrastinate.jobs import Job, Status
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError, ProgrammingError

from pulse_console.config import Settings
from pulse_console.engine.pool import PoolOptions, PoolProcess, make_app
from pulse_console.engine.queue import TASK_RUN
from storage.db import Database
from storage.tenancy import NotAMember
from storage.testing import scratch_login
from tests.engine.conftest import add_jobs
from tests.engine.test_pool import registry, start, statuses

A, B = 1, 2
T = TypeVar("T")


@pytest.fixture
def two_clients(engine: Engine) -> Engine:
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO clients (id, name) VALUES (1, 'acme'), (2, 'beta')"))
    return engine


def task(client: int, **changes: Any) -> Job:
    values: dict[str, Any] = {
        "queue": f"c{client}.jira",
        "lock": f"client:{client}",
        "queueing_lock": None,
        "task_name": TASK_RUN,
        "task_kwargs": {"client_id": client, "run_id": 0},
    }
    return Job(**{**values, **changes})


def defer(engine: Engine, client: int) -> int:
    """A task of `client`, deferred by the owner through procrastinate's SQL API."""
    with engine.begin() as conn:
        return int(
            conn.execute(
                text(
                    "SELECT unnest(procrastinate_defer_jobs_v1(ARRAY[ROW(:q, :t, 0, :l, NULL,"
                    " '{}'::jsonb, NULL)::procrastinate_job_to_defer_v1]))"
                ),
                {"q": f"c{client}.jira", "t": TASK_RUN, "l": f"client:{client}"},
            ).scalar_one()
        )


def as_login(login: Engine, scenario: Callable[[App], Awaitable[T]]) -> T:
    """Run `scenario` on procrastinate's app connected as `login`."""
    app = make_app(Database(engine=login, embedded=False), max_size=1)

    async def main() -> T:
        async with app.open_async():
            return await scenario(app)

    return asyncio.run(main())


def refused(login: Engine, scenario: Callable[[App], Awaitable[object]]) -> None:
    """PostgreSQL's row-level security refuses what `scenario` writes."""
    with pytest.raises(ConnectorException) as caught:
        as_login(login, scenario)
    assert "row-level security" in str(caught.value.__cause__)


@pytest.fixture
def worker_of_a(two_clients: Engine) -> Iterator[Engine]:
    """A login of the worker role, a member of client A only (not of pulse_all_clients)."""
    with ExitStack() as stack:
        yield stack.enter_context(scratch_login(two_clients, "worker", clients=(A,)))


def test_no_procrastinate_function_runs_as_its_owner(engine: Engine) -> None:
    """The isolation relies on procrastinate's functions running as the caller."""
    with engine.connect() as conn:
        functions = dict(
            conn.execute(
                text(
                    "SELECT proname, prosecdef FROM pg_proc WHERE proname LIKE 'procrastinate%'"
                    " AND pronamespace = current_schema()::regnamespace"
                )
            ).all()
        )
    assert "procrastinate_fetch_job_v2" in functions
    assert [name for name, definer in functions.items() if definer] == []


def test_a_worker_of_client_a_never_fetches_client_b_s_task(
    two_clients: Engine, worker_of_a: Engine
) -> None:
    older_b = defer(two_clients, B)  # first in line for a worker that could see it
    newer_a = defer(two_clients, A)

    async def fetch_all(app: App) -> list[int]:
        manager = app.job_manager
        worker = await manager.register_worker()
        taken = []
        while (job := await manager.fetch_job(None, worker)) is not None:
            assert job.id is not None
            taken.append(job.id)
        return taken

    assert as_login(worker_of_a, fetch_all) == [newer_a]
    with two_clients.connect() as conn:
        status = conn.execute(
            text("SELECT status::text FROM procrastinate_jobs WHERE id = :i"), {"i": older_b}
        ).scalar_one()
    assert status == "todo"


def test_a_worker_s_procrastinate_operations_reach_only_its_clients(
    two_clients: Engine, worker_of_a: Engine
) -> None:
    """Defer, fetch, retry, finish, cancel, stalled detection and periodic defers."""
    b_doing = defer(two_clients, B)
    b_todo = defer(two_clients, B)
    with two_clients.begin() as conn:  # B's run held by a worker silent for an hour
        silent = conn.execute(
            text(
                "INSERT INTO procrastinate_workers (last_heartbeat)"
                " VALUES (now() - interval '1 hour') RETURNING id"
            )
        ).scalar_one()
        conn.execute(
            text("UPDATE procrastinate_jobs SET status = 'doing', worker_id = :w WHERE id = :i"),
            {"i": b_doing, "w": silent},
        )

    async def operate(app: App) -> dict[str, object]:
        manager = app.job_manager
        worker = await manager.register_worker()
        await manager.defer_job_async(task(A))
        job = await manager.fetch_job(None, worker)
        assert job is not None and job.task_kwargs["client_id"] == A
        await manager.retry_job(job)
        again = await manager.fetch_job(None, worker)
        assert again is not None and again.id == job.id
        await manager.unregister_worker(worker)  # its task now looks stalled
        stalled = [j.id for j in await manager.get_stalled_jobs(seconds_since_heartbeat=0)]
        await manager.finish_job(again, Status.SUCCEEDED, delete_job=False)
        pruned = await manager.prune_stalled_workers(seconds_since_heartbeat=60)
        stamp = int(time.time())
        periodic = await manager.defer_periodic_job(
            task(A, task_kwargs={"timestamp": stamp}), "tick", stamp
        )
        return {
            "a": again.id,
            "stalled": stalled,
            "pruned": pruned,
            "periodic": periodic,
            "cancel_b": await manager.cancel_job_by_id_async(b_todo, abort=True),
            "cancel_a": await manager.cancel_job_by_id_async(periodic or 0, abort=True),
            "status": await manager.get_job_status_async(again.id or 0),
        }

    done = as_login(worker_of_a, operate)
    assert done["stalled"] == [done["a"]]  # not B's task of a silent worker
    assert done["pruned"] == [silent]  # heartbeats are everyone's: B's workers will see it
    assert done["periodic"] is not None and done["cancel_a"] is True
    assert done["cancel_b"] is False  # B's task is not there for this login
    assert done["status"] == Status.SUCCEEDED

    refused(worker_of_a, lambda app: app.job_manager.defer_job_async(task(B)))
    refused(
        worker_of_a,
        lambda app: app.job_manager.defer_periodic_job(
            task(B, task_kwargs={"timestamp": 1}), "tick", 1
        ),
    )
    with two_clients.connect() as conn:
        kept = conn.execute(
            text("SELECT id, status::text, worker_id FROM procrastinate_jobs WHERE client_id = :b"),
            {"b": B},
        ).all()
    # untouched, but for the worker link that pruning the silent worker cleared
    assert sorted(kept) == [(b_doing, "doing", None), (b_todo, "todo", None)]


def test_a_viewer_reads_only_its_clients_tasks_events_and_periodic_defers(
    two_clients: Engine,
) -> None:
    for client in (A, B):
        defer(two_clients, client)
        with two_clients.begin() as conn:
            conn.execute(
                text(
                    "SELECT procrastinate_defer_periodic_job_v2(:q, :l, NULL, :t, 0,"
                    " CAST(:p AS varchar), CAST(1 AS bigint), '{}'::jsonb)"
                ),
                {"q": f"c{client}.jira", "l": f"client:{client}", "t": TASK_RUN, "p": str(client)},
            )
    with scratch_login(two_clients, "viewer", clients=(A,)) as viewer, viewer.connect() as conn:
        tasks = conn.execute(text("SELECT DISTINCT client_id FROM procrastinate_jobs")).all()
        events = conn.execute(
            text(
                "SELECT DISTINCT j.client_id FROM procrastinate_events e"
                " LEFT JOIN procrastinate_jobs j ON j.id = e.job_id"
            )
        ).all()
        periodic = conn.execute(
            text("SELECT periodic_id FROM procrastinate_periodic_defers")
        ).scalars()
        assert (tasks, events, list(periodic)) == ([(A,)], [(A,)], [str(A)])
    with two_clients.connect() as conn:  # the owner sees both: the test can fail
        every = conn.execute(text("SELECT count(DISTINCT job_id) FROM procrastinate_events"))
        assert every.scalar_one() == 4
    with (
        scratch_login(two_clients, "viewer", clients=(A,)) as viewer,
        pytest.raises(ProgrammingError, match="permission denied"),
        viewer.begin() as conn,
    ):
        conn.execute(text("UPDATE procrastinate_jobs SET priority = 9"))


def test_a_user_defers_and_aborts_its_clients_tasks_only(two_clients: Engine) -> None:
    b_task = defer(two_clients, B)
    with scratch_login(two_clients, "user", clients=(A,)) as user:
        with user.begin() as conn:
            cancelled = conn.execute(
                text("SELECT procrastinate_cancel_job_v1(:i, true, false)"), {"i": b_task}
            ).scalar()
        assert cancelled is None  # not found for this login
        deferred = as_login(user, lambda app: app.job_manager.defer_job_async(task(A)))
        assert deferred.id is not None
        refused(user, lambda app: app.job_manager.defer_job_async(task(B)))


def test_a_task_must_name_an_existing_client_in_its_lock(two_clients: Engine) -> None:
    for lock in (None, "nightly", "client:99"):
        no_client = pytest.raises(IntegrityError, match=r"null value|foreign key")
        with no_client, two_clients.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO procrastinate_jobs (queue_name, task_name, lock)"
                    " VALUES ('q', :t, :l)"
                ),
                {"t": TASK_RUN, "l": lock},
            )


def test_a_pool_worker_without_clients_runs_only_its_login_s_clients(
    engine: Engine, tmp_path: Path
) -> None:
    """The whole worker (no `--clients`), as a login that is a worker of acme only."""
    owner = Database(engine=engine, embedded=False)
    settings = Settings(data_dir=tmp_path)
    for client in ("beta", "acme"):  # beta's run is queued first
        add_jobs(owner, client, ["first"])
        start(owner, settings, client, "first")
    with engine.connect() as conn:
        acme = conn.execute(text("SELECT id FROM clients WHERE name = 'acme'")).scalar_one()
    with scratch_login(engine, "worker", clients=(acme,)) as login:
        database = Database(engine=login, embedded=False)
        opts = PoolOptions.from_settings(settings, "acme-only")
        process = PoolProcess(database, settings, registry(), opts, step_after_runs=False)
        assert [name for _, name in process.clients] == ["acme"]
        asyncio.run(process.run(asyncio.Event(), wait=False))
        hidden = PoolOptions.from_settings(settings, "beta-too", clients=("acme", "beta"))
        with pytest.raises(NotAMember, match="user grant <login> --client beta"):
            PoolProcess(database, settings, registry(), hidden)
    assert statuses(owner) == {("acme", "first"): "FINISHED", ("beta", "first"): "RUNNING"}
    with engine.connect() as conn:
        beta_task = conn.execute(
            text("SELECT status::text, args FROM procrastinate_jobs WHERE queue_name LIKE 'beta.%'")
        ).one()
    assert beta_task[0] == "todo", json.dumps(beta_task[1])
