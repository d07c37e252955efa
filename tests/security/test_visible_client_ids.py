"""Issue 14: `pulse_visible_client_ids()` (every client policy's InitPlan) answers from
`client_members` (migration 0027): the clients of the acting role and of every group it is
in, never a client through a member name that is not exactly one of its roles."""

from __future__ import annotations

from sqlalchemy import Engine, text

from storage.testing import drop_login, scratch_login

NAME = "t_visible_ids"
LONG = "t_visible_long_" + "x" * 48  # as long as a role name can be: 63 bytes
GROUPS = ("t_visible_group", LONG)


def _visible(login: Engine, role: str | None = None) -> list[int]:
    with login.begin() as conn:
        if role is not None:
            conn.exec_driver_sql(f'SET LOCAL ROLE "{role}"')
        return sorted(conn.execute(text("SELECT unnest(pulse_visible_client_ids())")).scalars())


def test_a_login_sees_its_clients_and_its_groups_clients_only(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO clients (id, name) SELECT g, 'c' || g FROM generate_series(1, 9) g")
        )
        for role in (*GROUPS, "t_visible_gone"):
            conn.exec_driver_sql(f'CREATE ROLE "{role}" NOLOGIN IN ROLE pulse_viewer')
        members = {
            2: "t_visible_group",  # a group the login is in
            3: "t_visible_gone",  # a role dropped below, its row left behind
            4: "",  # no role has an empty name
            5: NAME.upper(),  # case-folded, it would be the login's name
            6: f'"{NAME}"',  # quoted, it would be the login's name
            7: LONG + "yz",  # truncated to 63 bytes, it would be a group the login is in
            8: "pulse_all_clients",  # a group the login is not in
            9: LONG,  # a group the login is in, its name as long as can be
        }
        for client_id, role in members.items():
            conn.execute(
                text("INSERT INTO client_members (role_name, client_id) VALUES (:r, :c)"),
                {"r": role, "c": client_id},
            )
        conn.exec_driver_sql('DROP ROLE "t_visible_gone"')
    try:
        with scratch_login(engine, "viewer", clients=(1,), name=NAME) as login:
            with engine.begin() as conn:
                for group in GROUPS:
                    conn.exec_driver_sql(f'GRANT "{group}" TO "{NAME}"')
            assert _visible(login) == [1, 2, 9]
            assert _visible(login, "t_visible_group") == [2]  # as the group: its own only
    finally:
        for group in GROUPS:
            drop_login(engine, group)
