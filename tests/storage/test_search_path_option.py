"""Another client library on the engine's connection gets the same search_path, also the
server's default `"$user", public` (a space, which libpq's options would split at)."""

from __future__ import annotations

import psycopg
from sqlalchemy import make_url

from storage.db import make_engine, search_path_option


def test_the_default_search_path_reaches_another_library_whole(pg_url: str) -> None:
    engine = make_engine(pg_url, pool_size=1)
    try:
        option = search_path_option(engine)
        url = make_url(pg_url).set(drivername="postgresql")
        with psycopg.connect(url.render_as_string(hide_password=False), options=option) as conn:
            theirs = conn.execute("SHOW search_path").fetchone()
        with engine.connect() as ours:
            mine = ours.exec_driver_sql("SHOW search_path").scalar_one()
    finally:
        engine.dispose()
    assert " " in str(mine)  # the server's default, with its space
    assert theirs is not None and theirs[0] == mine
