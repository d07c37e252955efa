"""azure_devops_sync against the simulator: a full sync lands the generated organisation
exactly; incremental runs converge after edits, new items, a move and a deletion."""

from __future__ import annotations

from sqlalchemy import Engine, text

from connectors.sandbox.azure_devops import AdoOrg
from storage.testing import seed_tenant
from tests.pipelines.ado_support import (
    add_ado_integration,
    expected,
    make_ctx,
    pipeline,
    simulator,
    snapshot,
)


def test_full_sync_lands_the_generated_organisation_exactly(engine: Engine) -> None:
    seed_tenant(engine)
    integration = add_ado_integration(engine)
    org = AdoOrg(7, "tiny", work_items=120, pull_requests=40)
    result = pipeline(simulator(org).handle).run(make_ctx(engine, integration))
    got, want = snapshot(engine), expected(org)
    for table in want:
        assert got[table] == want[table], table
    assert result.stats["transitions"] == len(want["transitions"])
    assert want["deployments"] and want["work_item_links"] and want["transitions"]
    item = org.items[1]
    with engine.connect() as conn:
        custom = conn.execute(
            text("SELECT custom_fields FROM work_items WHERE external_id = '1'")
        ).scalar_one()
        categories = dict(conn.execute(text("SELECT external_id, category FROM statuses")).all())
    assert custom["Team"] == item.team  # Custom.Team, by its display name
    assert custom["Area Path"] == f"Fabrikam Fiber\\{item.team}"
    assert categories["Bug/Resolved"] == "indeterminate" and categories["Task/Closed"] == "done"


def _counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            t: int(conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one())
            for t in (
                "work_items",
                "work_item_transitions",
                "pull_requests",
                "pr_comments",
                "pr_reviews",
                "pr_commits",
                "work_item_links",
                "ci_runs",
                "deployments",
            )
        }


def test_incremental_sync_converges_after_edits_new_items_a_move_and_a_deletion(
    engine: Engine,
) -> None:
    seed_tenant(engine)
    integration = add_ado_integration(engine)
    org = AdoOrg(7, "tiny", work_items=120, pull_requests=40)
    sim = simulator(org)
    pipeline(sim.handle).run(make_ctx(engine, integration))
    before = _counts(engine)
    active = next(pr.id for pr in org.pull_requests if pr.status == "active")
    running = [b.id for b in org.builds if b.finish_ms > org.now_ms]
    org.update(10)
    org.create(3, project=1)
    org.move(5, project=1)  # from Fabrikam Fiber to Contoso Web
    org.delete(6)
    org.complete_pull_request(active)
    linked = next(pr for pr in org.pull_requests if pr.status == "active" and pr.work_items)
    org.unlink(linked.id, linked.work_items[0])  # both link rows must go
    org.advance(3 * 24 * 3_600_000)  # running builds and deployments finish
    sim.calls.clear()
    result = pipeline(sim.handle).run(make_ctx(engine, integration))
    got, want = snapshot(engine), expected(org, synced=frozenset({6}))
    for table in want:
        assert got[table] == want[table], table
    after = _counts(engine)
    assert after["work_items"] == before["work_items"] + 3  # moved one: still one row
    assert ("5", "Contoso Web") in [(w[0], w[1]) for w in got["work_items"]]
    assert ("6", False) in [(w[0], w[6]) for w in got["work_items"]]
    assert sim.calls["workitemsbatch"] <= 2  # only what changed, not the whole org
    assert result.stats["mode"] == "incremental"
    assert running and all(r[1] == "completed" for r in got["ci_runs"])


def test_a_full_rerun_changes_nothing(engine: Engine) -> None:
    seed_tenant(engine)
    integration = add_ado_integration(engine)
    org = AdoOrg(7, "tiny", work_items=60, pull_requests=20)
    pipeline(simulator(org).handle).run(make_ctx(engine, integration))
    first = snapshot(engine)
    pipeline(simulator(org).handle, full=True).run(make_ctx(engine, integration))
    assert snapshot(engine) == first
